/* The widget full-page (/chat/widget/{hash}), for direct links: the page's own
 * <script src="/static/widget/chat.js" data-mode="page"> draws the chat; this module
 * marks the page ready once the widget has read its chatbot. */

const host = () => document.querySelector("[data-augury-chat]");

function ready() {
  const el = host();
  if (el && el.getAttribute("data-ready") === "true") document.body.dataset.ready = "true";
  else setTimeout(ready, 50);
}
ready();
