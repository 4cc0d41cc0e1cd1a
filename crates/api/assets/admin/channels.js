// Channels on the Rules page: where the program's deliveries come from and whether they arrive
// (last delivery, refused deliveries, the bot's role in a Telegram chat); admins connect,
// check and disconnect them here, and see who changed what. Also how channels moved (a
// Telegram group that became a supergroup) and, for accounts not limited to some programs,
// destinations deliveries came for that no program received.
// Text from the server is only set with textContent (through el()).
"use strict";

Views.channels = async function (view) {
  // Rendered into one area, so that a change re-renders it in place.
  let area = document.getElementById("channels-area");
  if (area) clear(area);
  else view.append(area = el("div", { id: "channels-area" }));
  const r = await api("GET", programPath("/channels"));
  const reload = () => Views.channels(view);
  const path = (c) => programPath("/channels/" + encodeURIComponent(c.network) + "/" + encodeURIComponent(c.destination));
  const health = (c) => {
    const parts = [el("div", {}, I18n.t("channels.last_delivery") + ": " + (c.last_delivery_at ? fmtTime(c.last_delivery_at) : I18n.t("channels.none_yet")))];
    if (c.refused > 0) {
      parts.push(el("div", { class: "bad" }, I18n.t("channels.refused", { n: fmtNum(c.refused), at: fmtTime(c.last_refused_at) })));
    }
    if (c.bot_role && c.bot_role !== "administrator") {
      parts.push(el("div", { class: "bad" }, I18n.t("channels.bot_not_admin." + c.bot_role)));
    }
    return el("div", { class: "channel-health" }, parts);
  };
  const actions = (c) => {
    const check = el("button", { type: "button", class: "channel-check" }, I18n.t("channels.check"));
    check.addEventListener("click", async () => {
      check.disabled = true;
      try {
        const answer = await api("POST", path(c) + "/check");
        const problems = answer.problems.length ? answer.problems.join("\n") : I18n.t("channels.all_well");
        toast(problems, answer.problems.length > 0);
      } catch (e) {
        toast(errorText(e), true);
      } finally {
        check.disabled = false;
      }
    });
    if (!can("administer")) return check;
    const remove = el("button", { type: "button", class: "danger channel-remove" }, I18n.t("channels.disconnect"));
    remove.addEventListener("click", () => {
      if (!window.confirm(I18n.t("channels.disconnect_warning", { what: networkName(c.network) + " " + c.destination }))) return;
      submitChange(remove, () => api("DELETE", path(c)), reload);
    });
    return el("span", {}, check, " ", remove);
  };
  const section = el("div", { class: "card", id: "channels" }, el("h2", {}, I18n.t("channels.title")),
    table([
      ["channels.network", (c) => networkName(c.network)],
      ["channels.destination", (c) => el("span", {}, el("span", { class: "mono" }, c.destination), c.title ? " · " + c.title : "")],
      ["channels.health", health],
      ["common.actions", actions],
    ], r.channels, "channel-row"));
  if (r.moves.length > 0) {
    section.append(el("h3", {}, I18n.t("channels.moves")), table([
      ["channels.moved_at", (m) => fmtTime(m.moved_at)],
      ["channels.network", (m) => networkName(m.network)],
      ["channels.from", (m) => el("span", { class: "mono" }, m.from_destination)],
      ["channels.to", (m) => el("span", { class: "mono" }, m.to_destination)],
      ["channels.why", (m) => I18n.t("channels.reason." + m.reason)],
    ], r.moves, "channel-move-row"));
  }
  if (r.changes.length > 0) {
    section.append(el("h3", {}, I18n.t("channels.changes")), table([
      ["channels.changed_at", (c) => fmtTime(c.at)],
      ["channels.who", (c) => c.actor],
      ["channels.action", (c) => I18n.t("channels.action." + c.action)],
      ["channels.network", (c) => networkName(c.network)],
      ["channels.destination", (c) => el("span", { class: "mono" }, c.destination)],
      ["channels.detail", (c) => c.detail],
    ], r.changes, "channel-change-row"));
  }
  area.append(section);
  if (can("administer")) area.append(await connectForm(reload), await programBotCard(reload), await webhookCard());
  let u;
  try {
    u = await api("GET", "/api/v1/admin/unrouted");
  } catch (_) {
    return; // an account limited to some programs does not see destinations of none
  }
  area.append(el("div", { class: "card", id: "unrouted" },
    el("h2", {}, I18n.t("channels.unrouted")),
    el("p", { class: "muted" }, I18n.t("channels.unrouted_hint")),
    table([
      ["channels.network", (d) => networkName(d.network)],
      ["channels.destination", (d) => el("span", { class: "mono" }, d.destination)],
      ["channels.why", (d) => I18n.t("channels.reason." + d.reason)],
      ["channels.deliveries", (d) => fmtNum(d.deliveries)],
      ["channels.first_seen", (d) => fmtTime(d.first_seen)],
      ["channels.last_seen", (d) => fmtTime(d.last_seen)],
    ], u.destinations, "unrouted-row")));
};

// Connecting: the network decides which fields show; Telegram chats the bot administers are
// offered with one click.
async function connectForm(done) {
  const network = el("select", { id: "channel-network" },
    ["vk", "instagram", "telegram"].map((n) => el("option", { value: n }, networkName(n))));
  const destination = el("input", { id: "channel-destination", required: true, size: 24 });
  const secret = el("input", { id: "channel-secret", size: 24, autocomplete: "off" });
  const confirmation = el("input", { id: "channel-confirmation", size: 12, autocomplete: "off" });
  const secretLabel = el("span", {}, I18n.t("channels.secret"));
  const vkOnly = [el("label", { class: "vk-only" }, secretLabel, secret),
    el("label", { class: "vk-only" }, I18n.t("channels.confirmation"), confirmation)];
  const hint = el("p", { class: "muted", id: "channel-hint" });
  // Instagram's secret is the brand's access token (optional), for looking mentions up.
  const shown = () => {
    vkOnly[0].hidden = network.value === "telegram";
    vkOnly[1].hidden = network.value !== "vk";
    secretLabel.textContent = I18n.t(network.value === "instagram" ? "channels.access_token" : "channels.secret");
    hint.textContent = I18n.t("channels.hint." + network.value);
  };
  network.addEventListener("change", shown);
  const submit = el("button", { type: "submit", id: "channel-submit" }, I18n.t("channels.connect"));
  const form = el("form", { class: "inline", id: "channel-form" },
    el("label", {}, I18n.t("channels.network"), network),
    el("label", {}, I18n.t("channels.destination"), destination), ...vkOnly, submit);
  const connect = (body) => submitChange(submit, () => api("POST", programPath("/channels"), body), done);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { network: network.value, destination: destination.value };
    if (network.value === "vk") Object.assign(body, { secret: secret.value, confirmation: confirmation.value });
    if (network.value === "instagram" && secret.value.trim()) body.secret = secret.value.trim();
    connect(body);
  });
  shown();
  const card = el("div", { class: "card", id: "channel-connect" }, el("h2", {}, I18n.t("channels.connect_title")), form, hint);
  let offered = { chats: [] };
  try {
    offered = await api("GET", "/api/v1/admin/telegram/offered-chats?program_id=" + encodeURIComponent(Admin.program));
  } catch (_) { /* not an admin of the whole deployment: nothing offered */ }
  if (offered.chats.length > 0) {
    card.append(el("h3", {}, I18n.t("channels.offered")), table([
      ["channels.destination", (c) => el("span", {}, el("span", { class: "mono" }, c.chat_id), c.title ? " · " + c.title : "")],
      ["channels.since", (c) => fmtTime(c.since)],
      ["common.actions", (c) => el("button", { type: "button", class: "channel-offered-connect",
        onclick: () => connect({ network: "telegram", destination: c.chat_id }) }, I18n.t("channels.connect"))],
    ], offered.chats, "offered-chat-row"));
  }
  return card;
}

// The program's own Telegram bot (one deployment, many brands): shown, given a token, removed.
// The token is write-only: the server never sends it back.
async function programBotCard(done) {
  const card = el("div", { class: "card", id: "program-bot" }, el("h2", {}, I18n.t("program_bot.title")));
  let r;
  try {
    r = await api("GET", programPath("/bot"));
  } catch (e) {
    card.append(el("p", { class: "muted" }, errorText(e)));
    return card;
  }
  if (r.bot) {
    card.append(
      el("p", { id: "program-bot-name" }, I18n.t("program_bot.current") + ": @" + r.bot.username + " (" + r.bot.bot_id + ")"),
      el("div", {}, I18n.t("program_bot.webhook_url") + ": ", el("span", { class: "mono" }, r.bot.webhook_url)),
      el("div", {}, I18n.t("program_bot.mini_app_url") + ": ", el("span", { class: "mono" }, r.bot.mini_app_url)));
    const remove = el("button", { type: "button", class: "danger", id: "program-bot-remove" }, I18n.t("program_bot.remove"));
    remove.addEventListener("click", () => {
      if (!window.confirm(I18n.t("program_bot.remove_warning", { name: "@" + r.bot.username }))) return;
      submitChange(remove, () => api("DELETE", programPath("/bot")), done);
    });
    card.append(el("p", {}, remove));
  } else {
    card.append(el("p", { class: "muted", id: "program-bot-none" }, I18n.t("program_bot.none")));
  }
  const token = el("input", { id: "program-bot-token", type: "password", required: true, size: 40, autocomplete: "off" });
  const submit = el("button", { type: "submit" }, I18n.t(r.bot ? "program_bot.replace" : "program_bot.set"));
  const form = el("form", { id: "program-bot-form" }, el("label", {}, I18n.t("program_bot.token"), token), " ", submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitChange(submit, () => api("PUT", programPath("/bot"), { token: token.value.trim() }), done);
  });
  card.append(form, el("p", { class: "muted" }, I18n.t("program_bot.hint")));
  return card;
}

// The bot's webhook as Telegram reports it, and a button to set it again.
async function webhookCard() {
  const card = el("div", { class: "card", id: "telegram-webhook" }, el("h2", {}, I18n.t("webhook.title")));
  let w;
  try {
    w = await api("GET", "/api/v1/admin/telegram/webhook?program_id=" + encodeURIComponent(Admin.program));
  } catch (e) {
    card.append(el("p", { class: "muted" }, errorText(e)));
    return card;
  }
  const row = (key, value, bad) => el("div", { class: bad ? "bad" : "" }, I18n.t(key) + ": ", value);
  card.append(
    el("p", { class: w.ready ? "" : "bad", id: "webhook-state" }, I18n.t(w.ready ? "webhook.ready" : "webhook.not_ready")),
    row("webhook.url", el("span", { class: "mono" }, w.url || "—"), w.url !== w.expected_url),
    row("webhook.expected", el("span", { class: "mono" }, w.expected_url)),
    row("webhook.pending", fmtNum(w.pending_update_count), w.pending_update_count > 100));
  if (w.last_error_message) {
    card.append(row("webhook.last_error", fmtTime(w.last_error_at) + " — " + w.last_error_message, true));
  }
  if (w.missing_updates.length > 0) card.append(row("webhook.missing", w.missing_updates.join(", "), true));
  const again = el("button", { type: "button", id: "webhook-set" }, I18n.t("webhook.set_again"));
  again.addEventListener("click", () => submitChange(again, () => api("POST", "/api/v1/admin/telegram/webhook?program_id=" + encodeURIComponent(Admin.program)), async () => {
    card.replaceWith(await webhookCard());
  }));
  card.append(el("p", {}, again));
  return card;
}
