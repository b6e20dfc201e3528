/* Feedback on an anomaly or a triggered alert: good catch / not interesting, with an
 * optional comment (feedback.html holds the form).
 */

import { api } from "./api.js";
import { $, $$, show } from "./dom.js";
import { busy, showError, toast } from "./toast.js";

const FEEDBACK_TEXT = {
  good_catch: "Marked as a good catch: deviations like this keep alerting.",
  not_interesting: "Marked as not interesting: deviations like this on these metrics stop alerting.",
};

/**
 * The feedback card (templates/feedback.html) for `target`, {anomaly_id} or
 * {trigger_id}: shows the feedback already given here, gives or changes it, undoes it.
 */
export async function feedbackBox(target, me) {
  const box = $("#feedback");
  if (!box) return;
  const buttons = $$("button[data-type]", box);
  const comment = $("#feedback-comment");
  let current = null;

  function render() {
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(!!current && current.type === b.dataset.type)));
    show($("#feedback-done"), !!current);
    if (current) {
      $("#feedback-done-text").textContent = FEEDBACK_TEXT[current.type]
        + (current.comment ? " Your comment: \u201c" + current.comment + "\u201d" : "");
    }
    // What a "not interesting" taught, in words: the rule that now holds its repeats.
    const rules = $("#feedback-rules");
    if (rules) {
      const learned = (current && current.learned) || [];
      rules.replaceChildren(...learned.map((text) => Object.assign(
        document.createElement("li"), { textContent: "Rule learned: " + text })));
      show(rules, learned.length > 0);
    }
  }

  async function give(type, button) {
    if (current && current.type === type && !comment.value.trim()) return;
    await busy(button, async () => {
      // One opinion per person and thing: a change replaces what was given before.
      if (current) await api("/feedback/" + current.id, { method: "DELETE" });
      current = null;
      current = await api("/feedback", {
        method: "POST", body: { type, comment: comment.value.trim(), origin: "ui", ...target },
      });
      comment.value = "";
      toast("Thank you: feedback saved.", "success");
    });
    render();
  }

  buttons.forEach((b) => b.addEventListener("click", () => give(b.dataset.type, b)));
  $("#feedback-undo").addEventListener("click", () => busy($("#feedback-undo"), async () => {
    if (!current) return;
    await api("/feedback/" + current.id, { method: "DELETE" });
    current = null;
    render();
    toast("Feedback withdrawn.", "success");
  }));
  if (me.role === "viewer") {
    [...buttons, comment, $("#feedback-undo")].forEach((el) => {
      el.disabled = true;
      el.title = "Viewers cannot give feedback";
    });
  }
  // The API lists feedback newest first, not by target: look among the recent ones.
  try {
    const page = await api("/feedback", { query: { limit: 500 } });
    current = page.items.find((f) => (target.trigger_id
      ? f.trigger_id === target.trigger_id
      : f.trigger_id === null && f.anomaly_id === target.anomaly_id)) || null;
  } catch (err) {
    showError(err);
  }
  render();
}
