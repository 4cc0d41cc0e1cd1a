// Telegram polls: publish a non-anonymous poll through the bot to one of the program's chats,
// and list the polls published so far. Members' answers earn the program's poll-vote points.
// Text from the server is only set with textContent (through el()).
"use strict";

const MAX_POLL_OPTIONS = 10;

Views.polls = async function (view) {
  const r = await api("GET", programPath("/telegram/polls"));
  view.append(el("h1", {}, I18n.t("nav.polls")),
    el("p", { class: "muted", id: "polls-points" }, r.points_per_vote === null
      ? I18n.t("polls.no_points")
      : I18n.t("polls.points", { points: fmtNum(r.points_per_vote) })));
  if (can("manage")) view.append(pollForm(r.chats));
  view.append(table([
    ["polls.published", (p) => fmtTime(p.published_at)],
    ["polls.question", (p) => p.question],
    ["polls.options", (p) => p.options.join(" · ")],
    ["polls.chat", (p) => el("span", { class: "mono" }, p.chat_id)],
    ["polls.by", (p) => String(p.published_by).replace(/^manager:/, "")],
    ["polls.poll_id", (p) => el("span", { class: "mono" }, p.poll_id)],
  ], r.polls, "poll-row"));
};

function pollForm(chats) {
  const head = el("h2", {}, I18n.t("polls.new"));
  if (chats.length === 0) {
    return el("div", { class: "card" }, head, el("p", { class: "muted", id: "poll-no-chat" }, I18n.t("polls.no_chat")));
  }
  let key = newKey();
  const question = el("input", { id: "poll-question", required: true, maxlength: 300, size: 60 });
  const chat = el("select", { id: "poll-chat" }, chats.map((c) => el("option", { value: c }, c)));
  const options = el("div", { id: "poll-options" });
  const more = el("button", { type: "button", class: "secondary", id: "poll-add-option" }, I18n.t("polls.add_option"));
  const addOption = () => {
    const n = options.children.length + 1;
    options.append(el("label", {}, I18n.t("polls.option", { n }),
      el("input", { class: "poll-option", maxlength: 100, required: n <= 2 })));
    more.disabled = options.children.length >= MAX_POLL_OPTIONS;
  };
  addOption();
  addOption();
  more.addEventListener("click", addOption);
  const submit = el("button", { type: "submit", id: "poll-submit" }, I18n.t("polls.publish"));
  const form = el("form", { id: "poll-form" },
    el("div", {},
      el("label", {}, I18n.t("polls.question"), question),
      el("label", {}, I18n.t("polls.chat"), chat)),
    options,
    el("p", {}, more, " ", submit),
    el("p", { class: "muted" }, I18n.t("polls.hint")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = {
      question: question.value,
      options: Array.from(options.querySelectorAll("input.poll-option"), (i) => i.value)
        .filter((v) => v.trim() !== ""),
      chat: chat.value,
    };
    submitChange(submit, () => api("POST", programPath("/telegram/polls"), body, key),
      () => { key = newKey(); return App.render(); });
  });
  return el("div", { class: "card" }, head, form);
}
