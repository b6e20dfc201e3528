/* Choose a new password (/reset-password?token=...), from the link in the reset mail. */

import { api, ApiError, queryToken, tokens } from "../api.js";
import { $, show } from "../dom.js";
import { onSubmit } from "../forms.js";
import { toast } from "../toast.js";
import { startPublic } from "../shell.js";

function resetPasswordPage() {
  const token = queryToken();
  if (!token) {
    toast("This page needs the link from the reset mail (it carries a token).");
    $("#reset-submit").disabled = true;
  }
  onSubmit($("#reset-form"), async (fd) => {
    const pw = String(fd.get("new_password") || "");
    if (pw !== String(fd.get("confirm") || "")) throw new ApiError(0, "VALIDATION_ERROR", "The two passwords differ.");
    await api("/auth/password/reset", { method: "POST", auth: false, body: { token, new_password: pw } });
    tokens.clear();
    show($("#reset-done"), true);
    show($("#reset-form"), false);
  });
}

startPublic(resetPasswordPage);
