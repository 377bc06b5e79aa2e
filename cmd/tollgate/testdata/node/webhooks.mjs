// A webhook receiver on 127.0.0.1 for cmd/tollgate/webhook_test.go. It
// verifies every delivery with the standardwebhooks package (the Standard
// Webhooks reference implementation for JavaScript), not with Tollgate's
// code, and prints one JSON line per request on stdout:
//   {"port": N}                               first, once listening;
//   {"id","type","verified":true}             a delivery it accepted (204);
//   {"id","refused":"503"}                    one it answered 503 on purpose;
//   {"id","error":"..."}                      one whose signature failed (400).
// POST /_control {"secret"?, "fail"?} sets the webhook's secret and how many
// deliveries to refuse with 503 next (as a receiver that is down would).
import http from "node:http";
import { Webhook } from "standardwebhooks";

let secret = null;
let fail = 0;

const print = (v) => process.stdout.write(JSON.stringify(v) + "\n");

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    if (req.url === "/_control") {
      const c = JSON.parse(body);
      if (c.secret !== undefined) secret = c.secret;
      if (c.fail !== undefined) fail = c.fail;
      res.writeHead(204).end();
      return;
    }
    const id = req.headers["webhook-id"];
    if (fail > 0) {
      fail--;
      print({ id, refused: "503" });
      res.writeHead(503).end();
      return;
    }
    try {
      const msg = new Webhook(secret).verify(body, req.headers);
      print({ id, type: msg.type, verified: true });
      res.writeHead(204).end();
    } catch (e) {
      print({ id, error: String(e && e.message ? e.message : e) });
      res.writeHead(400).end();
    }
  });
});

server.listen(0, "127.0.0.1", () => print({ port: server.address().port }));
