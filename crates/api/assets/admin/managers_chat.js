// The managers' chat on the Rules page: which Telegram group gets the morning digest and the
// alerts, at what local time, in which language, and when alerts fire. Everyone signed in sees
// it; admins and managers connect, change and disconnect it. Who changed what is listed.
// Text from the server is only set with textContent (through el()).
"use strict";

Views.managersChat = async function (view) {
  let area = document.getElementById("managers-chat-area");
  if (area) clear(area);
  else view.append(area = el("div", { id: "managers-chat-area" }));
  const url = programPath("/managers-chat");
  const r = await api("GET", url);
  const reload = () => Views.managersChat(view);
  const chat = r.chat;
  const card = el("div", { class: "card", id: "managers-chat" },
    el("h2", {}, I18n.t("managers.title")),
    el("p", { class: "muted" }, I18n.t("managers.hint")));
  const label = (c) => (c.title ? c.title + " · " : "") + c.chat_id;
  card.append(el("p", { id: "managers-chat-state" }, chat
    ? I18n.t("managers.connected", { chat: label(chat), time: chat.digest_time, zone: r.time_zone,
      lang: I18n.t("managers.lang." + chat.language) })
    : I18n.t("managers.none")));
  if (can("manage")) card.append(form(chat, r, url, reload));
  if (r.changes.length > 0) {
    card.append(el("h3", {}, I18n.t("managers.changes")), table([
      ["channels.changed_at", (c) => fmtTime(c.at)],
      ["channels.who", (c) => c.actor],
      ["channels.action", (c) => I18n.t("channels.action." + c.action)],
      ["managers.chat", (c) => el("span", { class: "mono" }, c.chat_id)],
      ["channels.detail", (c) => c.detail],
    ], r.changes, "managers-change-row"));
  }
  area.append(card);

  function form(chat, r, url, done) {
    const choices = r.candidates.slice();
    if (chat && !choices.some((c) => c.chat_id === chat.chat_id)) {
      choices.unshift({ chat_id: chat.chat_id, title: chat.title });
    }
    const group = el("select", { id: "managers-chat-group", required: true },
      choices.map((c) => el("option", { value: c.chat_id }, label(c))));
    if (chat) group.value = chat.chat_id;
    const time = el("input", { id: "managers-chat-time", type: "time", required: true, value: chat ? chat.digest_time : "09:00" });
    const language = el("select", { id: "managers-chat-language" },
      ["ru", "en"].map((l) => el("option", { value: l }, I18n.t("managers.lang." + l))));
    language.value = chat ? chat.language : I18n.lang;
    const numbers = ["large_award_points", "hourly_points", "silent_hours", "refused_per_hour", "lag_minutes"];
    const defaults = { large_award_points: 500, hourly_points: 1000, silent_hours: 24, refused_per_hour: 20, lag_minutes: 5 };
    const inputs = {};
    const thresholds = numbers.map((n) => {
      inputs[n] = el("input", { id: "managers-chat-" + n.replace(/_/g, "-"), type: "number", min: 1, step: 1, size: 6,
        value: chat ? chat[n] : defaults[n] });
      return el("label", {}, I18n.t("managers." + n), inputs[n]);
    });
    const submit = el("button", { type: "submit", id: "managers-chat-submit" }, I18n.t(chat ? "managers.save" : "managers.connect"));
    const f = el("form", { class: "inline", id: "managers-chat-form" },
      el("label", {}, I18n.t("managers.chat"), group),
      el("label", {}, I18n.t("managers.time", { zone: r.time_zone }), time),
      el("label", {}, I18n.t("managers.language"), language),
      el("fieldset", { class: "managers-thresholds" }, el("legend", {}, I18n.t("managers.thresholds")), thresholds),
      submit);
    f.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = { chat_id: group.value, digest_time: time.value, language: language.value };
      for (const n of numbers) body[n] = Number(inputs[n].value);
      submitChange(submit, () => api("PUT", url, body), done);
    });
    const box = el("div", {});
    if (choices.length === 0) {
      box.append(el("p", { class: "muted", id: "managers-chat-no-groups" }, I18n.t("managers.no_groups")));
    } else {
      box.append(f);
    }
    if (chat) {
      const remove = el("button", { type: "button", class: "danger", id: "managers-chat-disconnect" }, I18n.t("channels.disconnect"));
      remove.addEventListener("click", async () => {
        const sure = await Manage.confirm(I18n.t("managers.disconnect_title"), I18n.t("managers.disconnect_warning"), I18n.t("channels.disconnect"));
        if (sure) submitChange(remove, () => api("DELETE", url), done);
      });
      box.append(el("p", {}, remove));
    }
    return box;
  }
};
