// Runs TrustVC (@trustvc/trustvc, installed by tests/run.sh into var/node) on a request read
// from stdin and prints the answer as JSON on stdout. Used by tests/ebl/test_tradetrust_vc_node.py.
//
//   {"action": "verify", "documents": [...], "chainId": 1337, "owners": {"0xREG": {"<tokenId>": "0xOWNER"}}}
//     -> {"answers": [{"fragments": [...], "valid": bool, "calls": [...]}]}   verifyDocument + isValid
//     optional "dns": {"<domain>": ["openatts net=ethereum netId=1337 addr=0x…"]}: DNS-TXT
//     answers for the OpenAttestation identity proof, served in the DNS-over-HTTPS JSON form
//     of the resolvers TrustVC asks (dns.google, cloudflare-dns.com); any other name is NXDOMAIN
//   {"action": "sign", "credential": {...}, "keyPair": {...}}
//     -> {"signed": {...}}                       TrustVC's signW3C (ecdsa-sd-2023)
//   {"action": "contexts"} -> {"<url>": <context>}   the contexts TrustVC's loader serves
//
// The DID document is fetched by TrustVC's own did:web resolver over HTTPS (the test serves it;
// NODE_EXTRA_CA_CERTS names the test CA). Only the chain is stubbed: an ethers v5 provider whose
// eth_call answers the token registry's ownerOf(tokenId) from "owners" (as the registry
// contract would: the owner's address, or the ERC-721 revert for a token never minted).
"use strict";
const path = require("path");
const modules = process.argv[2];
const need = (name) => require(path.join(modules, name));
const trustvc = need("@trustvc/trustvc");
const { ethers } = need("ethers");

const OWNER_OF = "0x6352211e"; // ownerOf(uint256)

class RegistryStub extends ethers.providers.BaseProvider {
  constructor(chainId, owners) {
    super({ chainId, name: "stub" });
    this.owners = {};
    for (const [registry, tokens] of Object.entries(owners || {})) {
      this.owners[registry.toLowerCase()] = tokens;
    }
    this.calls = [];
  }
  async detectNetwork() {
    return this.network;
  }
  async perform(method, params) {
    if (method === "getBlockNumber") return 1;
    if (method !== "call") throw new Error(`registry stub: no ${method} on this chain`);
    const { to, data } = params.transaction;
    this.calls.push({ to, data });
    if (!data.startsWith(OWNER_OF)) throw new Error(`registry stub: unknown call ${data.slice(0, 10)}`);
    const tokenId = BigInt("0x" + data.slice(10)).toString(16).padStart(64, "0");
    const owner = (this.owners[to.toLowerCase()] || {})[tokenId];
    if (!owner) {
      const error = new Error("execution reverted: ERC721: owner query for nonexistent token");
      error.code = ethers.errors.CALL_EXCEPTION;
      throw error;
    }
    return ethers.utils.defaultAbiCoder.encode(["address"], [owner]);
  }
}

const DOH_HOSTS = new Set(["dns.google", "cloudflare-dns.com", "dns.alidns.com"]);

function serveDns(records) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (resource, options) => {
    const url = new URL(typeof resource === "string" ? resource : resource.url || String(resource));
    if (!DOH_HOSTS.has(url.hostname)) return realFetch(resource, options);
    const name = url.searchParams.get("name");
    const found = records[name] || [];
    const body = {
      Status: found.length ? 0 : 3,
      AD: false,
      Answer: found.map((data) => ({ name: `${name}.`, type: 16, TTL: 300, data: `"${data}"` })),
    };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { "Content-Type": "application/dns-json" },
    });
  };
}

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const request = JSON.parse(input);
  if (request.action === "verify") {
    if (request.dns) serveDns(request.dns);
    const answers = [];
    for (const document of request.documents) {
      const provider = new RegistryStub(request.chainId, request.owners);
      const fragments = await trustvc.verifyDocument(document, { provider });
      answers.push({ fragments, valid: trustvc.isValid(fragments), calls: provider.calls });
    }
    return { answers };
  }
  if (request.action === "sign") {
    const result = await trustvc.signW3C(request.credential, request.keyPair, "ecdsa-sd-2023");
    if (result.error) throw new Error(result.error);
    return { signed: result.signed };
  }
  if (request.action === "contexts") {
    const ctx = need("@trustvc/w3c-context");
    return Object.assign({}, ctx.contexts, ctx.trContexts, ctx.renderContextsV2,
      ctx.attachmentsContexts, ctx.templateContexts);
  }
  throw new Error(`unknown action ${request.action}`);
}

main().then(
  (answer) => process.stdout.write(JSON.stringify(answer)),
  (error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
    process.exit(1);
  },
);
