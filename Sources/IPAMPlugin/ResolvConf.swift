#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Addressing
import CNI
import LeaseService

/// Reads a resolv.conf into the result's `dns` (what host-local does with `resolvConf`).
enum ResolvConf {
    static func load(path: String) throws(ConfigFieldError) -> CNIResult.DNS {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw ConfigFieldError(field: "ipam.resolvConf", problem: "cannot read \(path)")
        }
        var dns = CNIResult.DNS()
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let key = words.first, !key.hasPrefix("#"), !key.hasPrefix(";") else { continue }
            let rest = Array(words.dropFirst())
            switch key {
            case "nameserver": dns.nameservers += rest.prefix(1)
            case "domain": dns.domain = rest.first
            case "search": dns.search = rest
            case "options": dns.options += rest
            default: continue
            }
        }
        return dns
    }
}
