import { describe, expect, it } from "vitest";
import { oauth1AuthorizationHeader, percentEncode, signatureBaseString } from "./oauth1.server";

describe("OAuth 1.0a signing", () => {
  it("percent-encodes as RFC 5849 requires", () => {
    expect(percentEncode("Ladies + Gentlemen")).toBe("Ladies%20%2B%20Gentlemen");
    expect(percentEncode("An encoded string!")).toBe("An%20encoded%20string%21");
    expect(percentEncode("Dogs, Cats & Mice")).toBe("Dogs%2C%20Cats%20%26%20Mice");
    expect(percentEncode("☃")).toBe("%E2%98%83");
    expect(percentEncode("-._~")).toBe("-._~");
  });

  // The worked example of RFC 5849 section 3.4.1 and 3.4.2.
  it("matches RFC 5849's example signature", () => {
    const base = signatureBaseString("POST", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", [
      ["oauth_consumer_key", "9djdj82h48djs9d2"],
      ["oauth_token", "kkk9d7dh3k39sjv7"],
      ["oauth_signature_method", "HMAC-SHA1"],
      ["oauth_timestamp", "137131201"],
      ["oauth_nonce", "7d8f3e4a"],
      ["c2", ""],
      ["a3", "2 q"],
    ]);
    expect(base).toBe(
      "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
    );
  });

  // RFC 5849 section 1.2 example (request token step).
  it("produces the RFC's HMAC-SHA1 signature", async () => {
    const header = await oauth1AuthorizationHeader({
      method: "POST",
      url: "https://photos.example.net/initiate",
      consumerKey: "dpf43f3p2l4k3l03",
      consumerSecret: "kd94hf93k423kf44",
      oauthParams: { oauth_callback: "http://printer.example.com/ready" },
      now: 137131200 * 1000,
      nonce: "wIjqoS",
      includeVersion: false,
    });
    expect(header).toContain('oauth_signature="74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D"');
  });
});
