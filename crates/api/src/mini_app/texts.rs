//! Words the server writes for people: history lines, linking steps and hints, in Russian and
//! English. The page translates its own interface; these depend on data, so they are made here.

use app::Language;
use domain::Event;
use domain::event::ReversalReason;
use domain::network::{ActivityKind, Network};

use std::collections::HashMap;
use uuid::Uuid;

/// The language the Mini App writes in: the page's choice (the first tag of its
/// `Accept-Language`, which the page sets to the language it shows), else Telegram's
/// `language_code`, through the rule every surface uses (`Language::from_code`).
pub fn language(accept_language: Option<&str>, telegram: Option<&str>) -> Language {
    let page = accept_language
        .and_then(|h| h.split([',', ';']).next())
        .filter(|tag| !tag.trim().is_empty());
    Language::from_code(page.or(telegram))
}

pub fn network_name(lang: Language, network: Network) -> &'static str {
    match network {
        Network::Instagram => "Instagram",
        Network::Vk => lang.pick("ВКонтакте", "VK"),
        Network::Telegram => "Telegram",
    }
}

pub fn kind_name(lang: Language, kind: ActivityKind) -> &'static str {
    use ActivityKind::*;
    match kind {
        Comment => lang.pick("Комментарий", "Comment"),
        Mention => lang.pick("Упоминание", "Mention"),
        Reaction => lang.pick("Реакция", "Reaction"),
        PollVote => lang.pick("Голос в опросе", "Poll vote"),
        Repost => lang.pick("Репост", "Repost"),
        Message => lang.pick("Сообщение", "Message"),
        Subscription => lang.pick("Подписка", "Subscription"),
        Codeword => lang.pick("Кодовое слово", "Codeword"),
    }
}

/// "Comment on VK" / "Комментарий · ВКонтакте".
pub fn activity(lang: Language, kind: ActivityKind, network: Network) -> String {
    let (kind, network) = (kind_name(lang, kind), network_name(lang, network));
    match lang {
        Language::Ru => format!("{kind} · {network}"),
        Language::En => format!("{kind} on {network}"),
    }
}

/// Names the history needs that events only reference by id.
#[derive(Default)]
pub struct Names {
    pub campaigns: HashMap<Uuid, String>,
    pub rewards: HashMap<Uuid, String>,
}

/// One line of a member's history.
pub fn history_line(lang: Language, event: &Event, names: &Names) -> String {
    let unknown = lang.pick("награда", "reward");
    match event {
        Event::MemberRegistered { .. } => lang
            .pick("Вы присоединились к программе", "You joined the program")
            .into(),
        Event::AccountLinked { account, .. } => {
            let network = network_name(lang, account.network);
            match lang {
                Language::Ru => format!("Привязан аккаунт {network}"),
                Language::En => format!("{network} account linked"),
            }
        }
        Event::AccountUnlinked { account, .. } => {
            let network = network_name(lang, account.network);
            match lang {
                Language::Ru => format!("Аккаунт {network} отвязан"),
                Language::En => format!("{network} account unlinked"),
            }
        }
        Event::PointsAwarded {
            activity: a,
            campaign_id: Some(campaign),
            ..
        } => {
            let name = names.campaigns.get(&campaign.0).map_or("", String::as_str);
            let network = network_name(lang, a.network);
            match lang {
                Language::Ru => format!("Кодовое слово «{name}» · {network}"),
                Language::En => format!("Codeword “{name}” on {network}"),
            }
        }
        Event::PointsAwarded { activity: a, .. } => activity(lang, a.kind, a.network),
        Event::PointsReversed {
            network, reason, ..
        } => {
            let network = network_name(lang, *network);
            let why = match reason {
                ReversalReason::Deleted => lang.pick("публикация удалена", "the post was deleted"),
                ReversalReason::Withdrawn => lang.pick("действие отменено", "it was withdrawn"),
                ReversalReason::Left => lang.pick("вы отписались", "you left"),
            };
            match lang {
                Language::Ru => format!("Баллы списаны: {why} ({network})"),
                Language::En => format!("Points taken back: {why} ({network})"),
            }
        }
        Event::AwardRestored { network, .. } => {
            let network = network_name(lang, *network);
            match lang {
                Language::Ru => format!("Баллы возвращены ({network})"),
                Language::En => format!("Points restored ({network})"),
            }
        }
        // Which rule held it stays with the brand: the member learns it waits, then the outcome.
        Event::AwardHeld {
            activity: a,
            points,
            ..
        } => {
            let what = activity(lang, a.kind, a.network);
            match lang {
                Language::Ru => format!("{what}: {points} баллов ждут проверки"),
                Language::En => format!("{what}: {points} points awaiting review"),
            }
        }
        Event::HeldAwardApproved { activity: a, .. } => {
            let what = activity(lang, a.kind, a.network);
            match lang {
                Language::Ru => format!("{what}: проверено, баллы начислены"),
                Language::En => format!("{what}: reviewed, points added"),
            }
        }
        Event::HeldAwardRejected { points, .. } => match lang {
            Language::Ru => format!("{points} баллов после проверки не начислены"),
            Language::En => format!("{points} points not added after review"),
        },
        Event::TierChanged {
            to: Some(tier),
            level,
            from_level,
            ..
        } => match (lang, level > from_level) {
            (Language::Ru, true) => format!("Новый уровень: {tier}"),
            (Language::En, true) => format!("New tier: {tier}"),
            (Language::Ru, false) => format!("Уровень теперь «{tier}»"),
            (Language::En, false) => format!("Your tier is now {tier}"),
        },
        Event::TierChanged { to: None, .. } => lang.pick("Уровень снят", "Tier ended").into(),
        Event::SeasonPrizeAwarded { rank, .. } => match lang {
            Language::Ru => format!("Приз сезона: {rank}-е место"),
            Language::En => format!("Season prize: rank {rank}"),
        },
        Event::PointsExpired { earned_at, .. } => {
            let day = earned_at.get().format("%d.%m.%Y");
            match lang {
                Language::Ru => format!("Сгорели баллы, начисленные {day}"),
                Language::En => format!("Expired: points earned on {day}"),
            }
        }
        Event::ExpiryWarned {
            points,
            first_expires_at,
            ..
        } => {
            let day = first_expires_at.get().format("%d.%m.%Y");
            match lang {
                Language::Ru => format!("Напоминание: {points} баллов сгорят, первые — {day}"),
                Language::En => format!("Reminder: {points} points expire, the first on {day}"),
            }
        }
        // The manager's reason is internal: the member sees the note, if there is one.
        Event::PointsAdjusted {
            note, compensates, ..
        } => {
            let what = match (compensates.is_some(), lang) {
                (true, Language::Ru) => "Исправление от команды бренда",
                (true, Language::En) => "Correction by the brand's team",
                (false, Language::Ru) => "От команды бренда",
                (false, Language::En) => "From the brand's team",
            };
            match note {
                Some(note) => format!("{what}: {note}"),
                None => what.to_string(),
            }
        }
        Event::RewardRedeemed {
            reward_id,
            coupon_code,
            ..
        } => {
            let title = names
                .rewards
                .get(&reward_id.0)
                .map_or(unknown, String::as_str);
            match lang {
                Language::Ru => format!("Награда «{title}» · купон {coupon_code}"),
                Language::En => format!("Reward “{title}” · coupon {coupon_code}"),
            }
        }
        // The manager's reason is internal, as an adjustment's is: the member is told the outcome.
        Event::RedemptionCancelled { reward_id, .. } => {
            let title = names
                .rewards
                .get(&reward_id.0)
                .map_or(unknown, String::as_str);
            match lang {
                Language::Ru => format!("Награда «{title}» отменена, баллы возвращены"),
                Language::En => format!("Reward “{title}” cancelled, points returned"),
            }
        }
        Event::RaffleTicketBought { .. } => lang.pick("Билет в розыгрыш", "A raffle ticket").into(),
        Event::RaffleTicketRefunded { .. } => lang
            .pick(
                "Розыгрыш отменён, баллы за билет возвращены",
                "The raffle was cancelled, the ticket's points returned",
            )
            .into(),
        Event::CouponUsed { reward_id, .. } => {
            let title = names
                .rewards
                .get(&reward_id.0)
                .map_or(unknown, String::as_str);
            match lang {
                Language::Ru => format!("Купон на «{title}» использован"),
                Language::En => format!("Coupon for “{title}” used"),
            }
        }
        Event::MemberBlocked { .. } => lang
            .pick(
                "Участие в программе приостановлено",
                "Your membership was suspended",
            )
            .into(),
        Event::MemberUnblocked { .. } => lang
            .pick(
                "Участие в программе возобновлено",
                "Your membership was restored",
            )
            .into(),
        other => other.event_type().into(),
    }
}

/// Step-by-step linking instructions in both languages: the page shows the member's.
pub fn link_steps(network: Network, code: &str, minutes: i64) -> (Vec<String>, Vec<String>) {
    let (place_ru, place_en, where_ru, where_en) = match network {
        Network::Instagram => (
            "аккаунт бренда в Instagram",
            "the brand's Instagram account",
            "под любым его постом",
            "under any of its posts",
        ),
        _ => (
            "сообщество бренда ВКонтакте",
            "the brand's VK community",
            "под любым постом на его стене",
            "under any post on its wall",
        ),
    };
    let ru = vec![
        format!("Откройте {place_ru}, войдя в тот аккаунт, который хотите привязать."),
        format!("Напишите {where_ru} комментарий с кодом {code}."),
        "Вернитесь сюда: через несколько секунд после комментария аккаунт появится в списке \
         привязанных."
            .to_string(),
        format!("Код одноразовый и действует {minutes} минут."),
    ];
    let en = vec![
        format!("Open {place_en}, signed in as the account you want to link."),
        format!("Write a comment {where_en} containing the code {code}."),
        "Come back here: a few seconds after the comment the account shows up as linked."
            .to_string(),
        format!("The code works once and expires in {minutes} minutes."),
    ];
    (ru, en)
}

/// What to do to earn a campaign's points; the codeword itself stays secret.
pub fn campaign_how_to(lang: Language, networks: &[Network]) -> String {
    let names: Vec<&str> = networks.iter().map(|n| network_name(lang, *n)).collect();
    let names = names.join(", ");
    match lang {
        Language::Ru => format!(
            "Найдите кодовое слово в публикациях бренда ({names}) и напишите его в комментарии \
             или сообщении."
        ),
        Language::En => format!(
            "Find the codeword in the brand's posts ({names}) and write it in a comment or \
             message."
        ),
    }
}

/// What exactly to do for an activity to pay, naming where: the brand (`name`), or for
/// Telegram the chat's title (`place`). `None` for what the platform cannot report.
pub fn way_how_to(
    lang: Language,
    network: Network,
    kind: ActivityKind,
    name: &str,
    place: &str,
    handle: Option<&str>,
) -> Option<String> {
    use ActivityKind::*;
    let ru = lang == Language::Ru;
    let (name, place) = (quoted(lang, name), quoted(lang, place));
    let text = match (network, kind) {
        (Network::Vk, Comment) if ru => {
            format!("Напишите комментарий под любым постом группы ВКонтакте {name}.")
        }
        (Network::Vk, Comment) => format!("Write a comment under any post of the VK group {name}."),
        (Network::Vk, Mention) if ru => format!(
            "Упомяните сообщество {name} (через @) в комментарии или в записи, которую предложите \
             на стену группы."
        ),
        (Network::Vk, Mention) => format!(
            "Mention the community {name} (with @) in a comment or in a post you suggest for the \
             group's wall."
        ),
        (Network::Telegram, Mention) if ru => {
            format!("Упомяните @{} в сообщении в чате {place}.", handle?)
        }
        (Network::Telegram, Mention) => format!("Mention @{} in a message in {place}.", handle?),
        (Network::Instagram, Mention) if ru => {
            format!(
                "Отметьте @{} в комментарии под постом {name} в Instagram.",
                handle?
            )
        }
        (Network::Instagram, Mention) => {
            format!(
                "Tag @{} in a comment on a post of {name} on Instagram.",
                handle?
            )
        }
        (Network::Vk, Repost) if ru => {
            format!("Сделайте репост записи группы {name} к себе на стену.")
        }
        (Network::Vk, Repost) => format!("Repost a post of the VK group {name} to your wall."),
        (Network::Vk, Reaction) if ru => format!("Поставьте лайк записи группы {name}."),
        (Network::Vk, Reaction) => format!("Like a post of the VK group {name}."),
        (Network::Vk, PollVote) if ru => format!("Проголосуйте в опросе группы {name}."),
        (Network::Vk, PollVote) => format!("Vote in a poll of the VK group {name}."),
        (Network::Vk, Message) if ru => format!("Напишите сообщение сообществу {name} ВКонтакте."),
        (Network::Vk, Message) => format!("Send a message to the VK community {name}."),
        (Network::Vk, Subscription) if ru => format!("Вступите в группу {name} ВКонтакте."),
        (Network::Vk, Subscription) => format!("Join the VK group {name}."),
        (Network::Telegram, Comment) if ru => {
            format!("Напишите сообщение или комментарий в чате {place}.")
        }
        (Network::Telegram, Comment) => {
            format!("Write a message or a comment in the chat {place}.")
        }
        (Network::Telegram, Reaction) if ru => format!("Поставьте реакцию на пост в {place}."),
        (Network::Telegram, Reaction) => format!("React to a post in {place}."),
        (Network::Telegram, PollVote) if ru => format!("Ответьте на опрос в {place}."),
        (Network::Telegram, PollVote) => format!("Answer a poll in {place}."),
        (Network::Telegram, Subscription) if ru => format!("Подпишитесь на {place} в Telegram."),
        (Network::Telegram, Subscription) => format!("Join {place} on Telegram."),
        (Network::Instagram, Comment) if ru => {
            format!("Напишите комментарий под любым постом {name} в Instagram.")
        }
        (Network::Instagram, Comment) => format!("Comment on any post of {name} on Instagram."),
        (Network::Instagram, Message) if ru => format!("Напишите {name} в директ Instagram."),
        (Network::Instagram, Message) => format!("Send {name} a direct message on Instagram."),
        _ => return None,
    };
    Some(text)
}

/// A name in the language's quotation marks, unless it brings its own («Зерно», "Zerno").
pub fn quoted(lang: Language, name: &str) -> String {
    if name.contains(['«', '"', '“']) {
        name.to_string()
    } else {
        match lang {
            Language::Ru => format!("«{name}»"),
            Language::En => format!("“{name}”"),
        }
    }
}

/// Why a subscription shows the status it does (`subscribed`, `left`, `not_seen`,
/// `unverifiable`).
pub fn subscription_note(lang: Language, network: Network, status: &str) -> String {
    let vk = network == Network::Vk;
    let text = match (status, lang) {
        ("unverifiable", Language::Ru) => {
            "Instagram не сообщает, кто подписан на бренд: чтобы получить баллы, напишите \
             кодовое слово в комментарии."
        }
        ("unverifiable", Language::En) => {
            "Instagram does not tell anyone who follows the brand: write the codeword in a \
             comment to earn instead."
        }
        ("subscribed", Language::Ru) if vk => "Вы состоите в сообществе ВКонтакте, бонус начислен.",
        ("subscribed", Language::Ru) => "Вы подписаны на канал в Telegram, бонус начислен.",
        ("subscribed", Language::En) if vk => "You are in the VK community; bonus received.",
        ("subscribed", Language::En) => {
            "You are subscribed to the Telegram channel; bonus received."
        }
        ("left", Language::Ru) if vk => "Вы вышли из сообщества ВКонтакте, бонус списан.",
        ("left", Language::Ru) => "Вы отписались от канала в Telegram, бонус списан.",
        ("left", Language::En) if vk => "You left the VK community; the bonus was taken back.",
        ("left", Language::En) => "You left the Telegram channel; the bonus was taken back.",
        (_, Language::Ru) if vk => "Вступите в сообщество бренда ВКонтакте, чтобы получить бонус.",
        (_, Language::Ru) => "Подпишитесь на канал бренда в Telegram, чтобы получить бонус.",
        (_, Language::En) if vk => "Join the brand's VK community to get the bonus.",
        (_, Language::En) => "Subscribe to the brand's Telegram channel to get the bonus.",
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::language;
    use app::Language::{En, Ru};

    #[test]
    fn the_page_choice_wins_then_telegram_then_the_common_rule() {
        assert_eq!(language(Some("en"), Some("ru")), En);
        assert_eq!(language(Some("ru"), Some("en")), Ru);
        assert_eq!(language(Some("en-US,en;q=0.9"), None), En);
        assert_eq!(language(None, Some("uk")), Ru);
        assert_eq!(language(Some(" "), Some("de")), En);
        assert_eq!(language(None, None), Ru);
    }
}
