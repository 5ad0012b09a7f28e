"""How a receiver verifies our signatures: one snippet per language, each with the Standard Webhooks library."""

from __future__ import annotations

# The secret is never put in a snippet: it is shown once, and a snippet is shown on every visit.
PYTHON = """# pip install standardwebhooks
from standardwebhooks.webhooks import Webhook

wh = Webhook(os.environ["WEBHOOK_SECRET"])  # "whsec_…"

def receive(request):
    # raises WebhookVerificationError when the signature or timestamp is wrong
    event = wh.verify(request.body, request.headers)
    ..."""

JAVASCRIPT = """// npm install standardwebhooks
import { Webhook } from "standardwebhooks";

const wh = new Webhook(process.env.WEBHOOK_SECRET.replace("whsec_", ""));

app.post("/webhooks", express.raw({ type: "application/json" }), (req, res) => {
  // throws when the signature or timestamp is wrong
  const event = wh.verify(req.body, req.headers);
  res.sendStatus(204);
});"""

SNIPPETS = [("python", "Python", PYTHON), ("javascript", "JavaScript", JAVASCRIPT)]
