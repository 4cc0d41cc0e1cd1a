// The login page: one form, errors shown as text.
"use strict";

(function () {
  I18n.apply(document);
  wireLangSwitch();
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const submit = document.getElementById("login-submit");
    submit.disabled = true;
    try {
      await api("POST", "/api/v1/admin/session", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      });
      window.location.assign("/admin");
    } catch (e) {
      error.textContent = e.status === 401 ? I18n.t("login.wrong") : errorText(e);
      error.hidden = false;
      document.getElementById("password").value = "";
    } finally {
      submit.disabled = false;
    }
  });
})();
