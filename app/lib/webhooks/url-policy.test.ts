import { describe, expect, it } from "vitest";
import { parseIPv6, webhookUrlProblem } from "./url-policy";

describe("webhook URLs in production (public HTTPS only)", () => {
  it.each([
    "https://hooks.example.com/spokedo",
    "https://hooks.example.com:8443/spokedo?team=ops",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[64:ff9b::808:808]/hook",
    "https://[2002:808:808::1]/hook",
    "https://172.32.0.1/hook",
    "https://100.128.0.1/hook",
    "https://hooks.example.com./spokedo",
  ])("accepts %s", (url) => {
    expect(webhookUrlProblem(url, "public")).toBeNull();
  });

  it.each([
    ["http://hooks.example.com/x", "Use an https:// URL"],
    ["ftp://hooks.example.com/x", "Use an https:// URL."],
    ["javascript:alert(1)", "Use an https:// URL."],
    ["https://user:pass@hooks.example.com/", "Leave the user name and password out"],
    ["https://localhost/", "not a public host name"],
    ["https://LOCALHOST./", "not a public host name"],
    ["https://api.localhost/", "not a public host name"],
    ["https://metadata.google.internal/", "not a public host name"],
    ["https://nas.local/", "not a public host name"],
    ["https://router.home.arpa/", "not a public host name"],
    ["https://spokedo.test/", "not a public host name"],
    ["https://intranet/", "not a public host name"],
    ["https://0.0.0.0/", "reserved (0.0.0.0/8)"],
    ["https://127.0.0.1/", "loopback"],
    ["https://127.1/", "loopback"],
    ["https://0x7f000001/", "loopback"],
    ["https://017700000001/", "loopback"],
    ["https://2130706433/", "loopback"],
    ["https://10.0.0.1/", "private (10.0.0.0/8)"],
    ["https://172.16.0.1/", "private (172.16.0.0/12)"],
    ["https://172.31.255.255/", "private (172.16.0.0/12)"],
    ["https://192.168.0.1/", "private (192.168.0.0/16)"],
    ["https://169.254.169.254/", "link-local (169.254.0.0/16)"],
    ["https://100.64.0.1/", "carrier-grade NAT space (100.64.0.0/10)"],
    ["https://100.127.255.255/", "carrier-grade NAT space (100.64.0.0/10)"],
    ["https://198.18.0.1/", "benchmarking"],
    ["https://224.0.0.1/", "multicast"],
    ["https://255.255.255.255/", "reserved (240.0.0.0/4)"],
    ["https://[::]/", "unspecified"],
    ["https://[::1]/", "loopback address (::1)"],
    ["https://[0:0:0:0:0:0:0:1]/", "loopback address (::1)"],
    ["https://[::ffff:127.0.0.1]/", "IPv4-mapped"],
    ["https://[::ffff:7f00:1]/", "IPv4-mapped"],
    ["https://[::ffff:8.8.8.8]/", "IPv4-mapped"],
    ["https://[::127.0.0.1]/", "IPv4-compatible"],
    ["https://[fc00::1]/", "unique-local (fc00::/7)"],
    ["https://[fd12:3456:789a::1]/", "unique-local (fc00::/7)"],
    ["https://[fe80::1]/", "link-local (fe80::/10)"],
    ["https://[febf::1]/", "link-local (fe80::/10)"],
    ["https://[fec0::1]/", "site-local"],
    ["https://[ff02::1]/", "multicast"],
    ["https://[2001:db8::1]/", "documentation"],
    ["https://[64:ff9b::7f00:1]/", "loopback address (127.0.0.0/8), behind NAT64"],
    ["https://[64:ff9b::10.0.0.1]/", "private (10.0.0.0/8), behind NAT64"],
    ["https://[64:ff9b:1::1]/", "local-use NAT64"],
    ["https://[2002:c0a8:0101::1]/", "private (192.168.0.0/16), inside a 6to4 address"],
    ["https://[2001:0:4136:e378::1]/", "Teredo"],
    ["not a url", "Enter an absolute URL"],
  ])("refuses %s", (url, message) => {
    expect(webhookUrlProblem(url, "public")).toContain(message);
  });

  it("refuses URLs longer than 2000 characters", () => {
    expect(webhookUrlProblem(`https://hooks.example.com/${"a".repeat(2000)}`, "public")).toContain("at most 2000");
  });
});

describe("webhook URLs on a developer's machine", () => {
  it.each(["http://localhost:8788/webhooks", "http://127.0.0.1:9000/", "http://provider-emulator.test/hooks", "https://[::1]/"])(
    "accepts %s",
    (url) => {
      expect(webhookUrlProblem(url, "local")).toBeNull();
    },
  );

  it.each([
    ["ftp://localhost/", "Use an https:// URL."],
    ["http://user:pass@localhost/", "Leave the user name and password out"],
  ])("still refuses %s", (url, message) => {
    expect(webhookUrlProblem(url, "local")).toContain(message);
  });
});

describe("parseIPv6", () => {
  it.each([
    ["::", [0, 0, 0, 0, 0, 0, 0, 0]],
    ["::1", [0, 0, 0, 0, 0, 0, 0, 1]],
    ["fe80::", [0xfe80, 0, 0, 0, 0, 0, 0, 0]],
    ["1:2:3:4:5:6:7:8", [1, 2, 3, 4, 5, 6, 7, 8]],
    ["::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]],
    ["::1.2.3.4", [0, 0, 0, 0, 0, 0, 0x0102, 0x0304]],
    ["1:2:3:4:5:6:1.2.3.4", [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]],
  ])("reads %s", (text, groups) => {
    expect(parseIPv6(text)).toEqual(groups);
  });

  it.each(["1:2:3", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::g", "1:2:3:4:5:6:7::8", "::1.2.3.256"])("refuses %s", (text) => {
    expect(parseIPv6(text)).toBeNull();
  });
});
