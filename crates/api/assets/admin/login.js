// The login page: a username and password form, and Telegram's Login Widget when the server
// has a bot. Errors are shown as text.
"use strict";

const LoginPage = {};

(function () {
  I18n.apply(document);
  wireLangSwitch();
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const show = (text) => { error.textContent = text; error.hidden = false; };

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
      show(e.status === 401 ? I18n.t("login.wrong") : errorText(e));
      document.getElementById("password").value = "";
    } finally {
      submit.disabled = false;
    }
  });

  // Signs in with the fields Telegram's widget signed (a separate step, so tests can hand it
  // fields signed for the test bot without telegram.org).
  LoginPage.telegram = async function (fields) {
    error.hidden = true;
    try {
      await api("POST", "/api/v1/admin/session/telegram", fields);
      window.location.assign("/admin");
    } catch (e) {
      show(errorText(e));
    }
  };

  api("GET", "/api/v1/admin/session/telegram").then(({ bot_id }) => {
    document.getElementById("telegram-sign-in").hidden = false;
    document.getElementById("telegram-submit").addEventListener("click", async () => {
      try {
        const fields = await telegramConfirm(bot_id);
        if (fields) await LoginPage.telegram(fields);
      } catch (e) {
        show(errorText(e));
      }
    });
  }, () => { /* no bot configured: password only */ });
})();
