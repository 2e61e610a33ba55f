/**
 * Where outgoing webhooks may go (docs/decisions/016-outgoing-webhooks.md). In production only
 * public HTTPS URLs: no private, loopback, link-local, CGNAT, unique-local or IPv4-mapped address
 * literals, and no names that cannot be public (localhost, *.internal…). On a developer's machine
 * (APP_URL plain HTTP or localhost) anything HTTP(S) goes, so the emulator and local receivers work.
 *
 * Names are not resolved here: a public name that points at a private address is not caught. The
 * Worker's outbound fetch leaves from Cloudflare's network, not from one of ours; the check stops
 * the obvious cases and keeps the rule the same wherever the app runs.
 */
export type WebhookTargets = "public" | "local";

export const MAX_WEBHOOK_URL_LENGTH = 2000;

const NOT_PUBLIC_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".intranet",
  ".lan",
  ".home",
  ".corp",
  ".private",
  ".home.arpa",
  ".test",
  ".example",
  ".invalid",
  ".onion",
];

/** What is wrong with `raw` as a webhook URL, or null when it may be used. */
export function webhookUrlProblem(raw: string, targets: WebhookTargets): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Enter an absolute URL, like https://example.com/webhooks/spokedo.";
  }
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return `A webhook URL has at most ${MAX_WEBHOOK_URL_LENGTH} characters.`;
  if (url.protocol !== "https:" && url.protocol !== "http:") return "Use an https:// URL.";
  if (url.username || url.password)
    return "Leave the user name and password out of the URL; verify requests with the signing secret instead.";
  if (targets === "local") return null;
  if (url.protocol !== "https:") return "Use an https:// URL: webhooks go only to HTTPS endpoints.";

  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) {
    const groups = parseIPv6(host.slice(1, -1));
    if (!groups) return "This is not a valid IPv6 address.";
    const reason = privateIPv6(groups);
    return reason ? `${reason}: webhooks go only to public addresses.` : null;
  }
  const v4 = parseIPv4(host);
  if (v4) {
    const reason = privateIPv4(v4);
    return reason ? `${reason}: webhooks go only to public addresses.` : null;
  }
  if (host === "localhost" || NOT_PUBLIC_SUFFIXES.some((suffix) => host.endsWith(suffix)) || !host.includes(".")) {
    return `${host} is not a public host name: webhooks go only to public hosts.`;
  }
  return null;
}

/** Dotted-quad only: the URL parser already turned other IPv4 spellings (0x7f.1, 2130706433) into one. */
function parseIPv4(host: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return null;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

const IPV4_RANGES: [number[], number, string][] = [
  [[0, 0, 0, 0], 8, "This address is reserved (0.0.0.0/8)"],
  [[10, 0, 0, 0], 8, "This address is private (10.0.0.0/8)"],
  [[100, 64, 0, 0], 10, "This address is shared carrier-grade NAT space (100.64.0.0/10)"],
  [[127, 0, 0, 0], 8, "This address is a loopback address (127.0.0.0/8)"],
  [[169, 254, 0, 0], 16, "This address is link-local (169.254.0.0/16)"],
  [[172, 16, 0, 0], 12, "This address is private (172.16.0.0/12)"],
  [[192, 0, 0, 0], 24, "This address is reserved for protocol assignments (192.0.0.0/24)"],
  [[192, 0, 2, 0], 24, "This address is for documentation (192.0.2.0/24)"],
  [[192, 168, 0, 0], 16, "This address is private (192.168.0.0/16)"],
  [[198, 18, 0, 0], 15, "This address is for benchmarking (198.18.0.0/15)"],
  [[198, 51, 100, 0], 24, "This address is for documentation (198.51.100.0/24)"],
  [[203, 0, 113, 0], 24, "This address is for documentation (203.0.113.0/24)"],
  [[224, 0, 0, 0], 4, "This address is multicast (224.0.0.0/4)"],
  [[240, 0, 0, 0], 4, "This address is reserved (240.0.0.0/4)"],
];

function ipv4Number(octets: number[]) {
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

function privateIPv4(octets: number[]): string | null {
  const value = ipv4Number(octets);
  for (const [base, bits, reason] of IPV4_RANGES) {
    const size = 2 ** (32 - bits);
    if (Math.floor(value / size) === Math.floor(ipv4Number(base) / size)) return reason;
  }
  return null;
}

/** Eight 16-bit groups, or null. Accepts `::` compression and a dotted IPv4 tail. */
export function parseIPv6(text: string): number[] | null {
  let address = text;
  const tail: number[] = [];
  const dotted = /:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(address);
  if (dotted) {
    const octets = parseIPv4(dotted[1]!);
    if (!octets) return null;
    tail.push(octets[0]! * 256 + octets[1]!, octets[2]! * 256 + octets[3]!);
    // Keep a `::` that ends right before the IPv4 part ("::1.2.3.4"), drop a lone separator.
    const before = address.slice(0, dotted.index + 1);
    address = before.endsWith("::") ? before : before.slice(0, -1);
  }
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - tail.length - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const parts = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!parts.every((part) => /^[0-9a-f]{1,4}$/i.test(part))) return null;
  return [...parts.map((part) => parseInt(part, 16)), ...tail];
}

function embeddedIPv4(high: number, low: number) {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff];
}

function privateIPv6(g: number[]): string | null {
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 8)) return "This address is unspecified (::)";
  if (zeros(0, 7) && g[7] === 1) return "This address is the loopback address (::1)";
  if (zeros(0, 5) && g[5] === 0xffff) return "This is an IPv4-mapped address (::ffff:0:0/96)";
  if (zeros(0, 6)) return "This is an IPv4-compatible address (::/96)";
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return "This address is unique-local (fc00::/7)";
  if ((first & 0xffc0) === 0xfe80) return "This address is link-local (fe80::/10)";
  if ((first & 0xffc0) === 0xfec0) return "This address is site-local (fec0::/10)";
  if ((first & 0xff00) === 0xff00) return "This address is multicast (ff00::/8)";
  if (first === 0x2001 && g[1] === 0x0db8) return "This address is for documentation (2001:db8::/32)";
  if (first === 0x0100 && zeros(1, 4)) return "This address is a discard address (100::/64)";
  if (first === 0x2001 && g[1] === 0) return "This is a Teredo tunnel address (2001::/32)";
  if (first === 0x0064 && g[1] === 0xff9b) {
    // NAT64: the IPv4 address it stands for decides.
    const inner = privateIPv4(embeddedIPv4(g[6]!, g[7]!));
    return g[2] !== 0 || !zeros(3, 6) ? "This is a local-use NAT64 address (64:ff9b:1::/48)" : inner ? `${inner}, behind NAT64` : null;
  }
  if (first === 0x2002) {
    const inner = privateIPv4(embeddedIPv4(g[1]!, g[2]!));
    return inner ? `${inner}, inside a 6to4 address` : null;
  }
  return null;
}
