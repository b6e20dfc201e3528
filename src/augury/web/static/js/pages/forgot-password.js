/* Forgot password (/forgot-password): asks for the reset mail and shows the API's answer. */

import { api } from "../api.js";
import { $, show } from "../dom.js";
import { onSubmit, text } from "../forms.js";
import { startPublic } from "../shell.js";

function forgotPasswordPage() {
  onSubmit($("#forgot-form"), async (fd) => {
    const out = await api("/auth/password/forgot", {
      method: "POST", auth: false, body: { email: text(fd, "email") },
    });
    const done = $("#forgot-done");
    done.textContent = out.message;
    show(done, true);
    show($("#forgot-form"), false);
  });
}

startPublic(forgotPasswordPage);
