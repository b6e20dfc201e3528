/* Settings › Preferences: theme, language and the time zone every time is shown in. */

import { api } from "../api.js";
import { $, h } from "../dom.js";
import { dateFmt, timeZone } from "../format.js";
import { toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { applyPreferences, applyTheme } from "../preferences.js";
import { startApp } from "../shell.js";

function showNow() {
  $("#pref-now").textContent = dateFmt.format(new Date()) + " (" + timeZone() + ")";
}

async function preferencesPage(me) {
  const prefs = me.preferences;
  $("#pref-theme").value = prefs.theme;
  $("#pref-language").value = prefs.language;
  $("#pref-timezone").value = prefs.timezone || "";
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("#pref-zones").append(...["UTC", ...zones].map((z) => h("option", { value: z })));
  showNow();
  // The theme shows as soon as it is picked; Save keeps it.
  $("#pref-theme").addEventListener("change", (ev) => applyTheme(ev.target.value));
  onSubmit($("#prefs-form"), async (fd) => {
    const out = await api("/users/me/preferences", {
      method: "PATCH",
      body: {
        theme: text(fd, "theme"), language: text(fd, "language"),
        timezone: text(fd, "timezone") || null,  // empty: the browser's zone
      },
    });
    applyPreferences(out);
    showNow();
    toast("Preferences saved.", "success");
  });
}

startApp(preferencesPage);
