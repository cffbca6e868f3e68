/** Where a kernel parameter lives under /proc/sys: net.ipv4.ip_forward → /proc/sys/net/ipv4/ip_forward. */
export function sysctlPath(name: string): string {
  return `/proc/sys/${name.replaceAll(".", "/")}`;
}
