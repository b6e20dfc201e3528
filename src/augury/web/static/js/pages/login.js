/* Log in (/login): on success the tokens are kept and the browser goes back to the
 * page that sent it here (?next=), else to the Overview.
 */

import { api, nextPath, tokens } from "../api.js";
import { $ } from "../dom.js";
import { onSubmit, text } from "../forms.js";
import { startPublic } from "../shell.js";

function loginPage() {
  onSubmit($("#login-form"), async (fd) => {
    const body = await api("/auth/login", {
      method: "POST", auth: false,
      body: { email: text(fd, "email"), password: String(fd.get("password") || "") },
    });
    tokens.save(body);
    location.assign(nextPath());
  });
}

startPublic(loginPage);
