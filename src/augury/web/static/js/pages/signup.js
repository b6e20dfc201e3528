/* Sign up (/signup): a new account and, optionally, its first organization. */

import { api, tokens } from "../api.js";
import { $ } from "../dom.js";
import { onSubmit, text } from "../forms.js";
import { startPublic } from "../shell.js";

function signupPage() {
  onSubmit($("#signup-form"), async (fd) => {
    const body = { email: text(fd, "email"), password: String(fd.get("password") || "") };
    if (text(fd, "name")) body.name = text(fd, "name");
    if (text(fd, "organization_name")) body.organization_name = text(fd, "organization_name");
    const out = await api("/auth/signup", { method: "POST", auth: false, body });
    tokens.save(out);
    location.assign("/");
  });
}

startPublic(signupPage);
