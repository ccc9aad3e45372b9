#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import SystemCalls
import LeaseService

/// Table and JSON printing shared by the subcommands.
enum Output {
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0a)
        write(data)
    }

    /// A JSON array written element by element in chunks of about 256 KiB, so
    /// listing 60,000 leases never holds the whole document (or every row's
    /// encoding) in memory at once. Same bytes as `printJSON` of the array
    /// would give, apart from indentation of the outer brackets.
    static func printJSONArray<S: Sequence>(_ elements: S) throws where S.Element: Encodable {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var chunk = Data("[".utf8)
        var first = true
        for element in elements {
            chunk.append(contentsOf: first ? Array("\n".utf8) : Array(",\n".utf8))
            first = false
            chunk.append(try encoder.encode(element))
            if chunk.count >= 256 << 10 {
                write(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        chunk.append(contentsOf: Array((first ? "]\n" : "\n]\n").utf8))
        write(chunk)
    }

    /// Aligned columns; widths from the widest cell.
    static func printTable(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        out.reserveCapacity((rows.count + 1) * (widths.reduce(0, +) + 2 * widths.count))
        for row in [header] + rows {
            for (i, cell) in row.enumerated() {
                out += cell
                if i < row.count - 1 { out += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            out += "\n"
        }
        write(Data(out.utf8))
    }

    static func write(_ data: Data) {
        try? FileDescriptor.standardOutput.writeAllBytes(Array(data))
    }

    /// RFC 3339 UTC with milliseconds (the decision log's format).
    static func timestamp(_ date: Date) -> String { DecisionLog.timestamp(date) }
}
