import IpamctlKit

Ipamctl.main()
