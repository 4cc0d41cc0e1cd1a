// Channels on the Rules page: where the program's deliveries come from, how its channels moved
// (a Telegram group that became a supergroup), and, for accounts not limited to some programs,
// destinations deliveries came for that no program received.
// Text from the server is only set with textContent (through el()).
"use strict";

Views.channels = async function (view) {
  const r = await api("GET", programPath("/channels"));
  const section = el("div", { class: "card", id: "channels" }, el("h2", {}, I18n.t("channels.title")),
    table([
      ["channels.network", (c) => networkName(c.network)],
      ["channels.destination", (c) => el("span", { class: "mono" }, c.destination)],
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
  view.append(section);
  let u;
  try {
    u = await api("GET", "/api/v1/admin/unrouted");
  } catch (_) {
    return; // an account limited to some programs does not see destinations of none
  }
  view.append(el("div", { class: "card", id: "unrouted" },
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
