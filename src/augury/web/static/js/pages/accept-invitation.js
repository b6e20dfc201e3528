/* Join an organization (/accept-invitation?token=...), from the link in the invitation
 * mail: a new account or an existing one joins, and is logged in.
 */

import { api, queryToken, tokens } from "../api.js";
import { $ } from "../dom.js";
import { onSubmit, text } from "../forms.js";
import { toast } from "../toast.js";
import { startPublic } from "../shell.js";

function acceptInvitationPage() {
  const token = queryToken();
  if (!token) {
    toast("This page needs the link from the invitation mail (it carries a token).");
    $("#accept-submit").disabled = true;
  }
  onSubmit($("#accept-form"), async (fd) => {
    const body = { token, password: String(fd.get("password") || "") };
    if (text(fd, "name")) body.name = text(fd, "name");
    const out = await api("/invitations/accept", { method: "POST", auth: false, body });
    tokens.save(out);
    location.assign("/");
  });
}

startPublic(acceptInvitationPage);
