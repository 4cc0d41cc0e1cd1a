//! Words the server writes for people: history lines, linking steps and hints, in Russian and
//! English. The page translates its own interface; these depend on data, so they are made here.

use domain::Event;
use domain::event::ReversalReason;
use domain::network::{ActivityKind, Network};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    /// `ru`, `ru-RU`, `en-GB`…; anything else is not a language we speak.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_', ';', ',']).next()?;
        match primary.to_ascii_lowercase().as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The page's choice (its `Accept-Language`) wins over Telegram's `language_code`;
    /// English when neither is one we speak.
    pub fn choose(accept_language: Option<&str>, telegram: Option<&str>) -> Lang {
        accept_language
            .and_then(|h| h.split(',').find_map(Lang::from_tag))
            .or_else(|| telegram.and_then(Lang::from_tag))
            .unwrap_or(Lang::En)
    }

    fn pick<'a>(self, ru: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

pub fn network_name(lang: Lang, network: Network) -> &'static str {
    match network {
        Network::Instagram => "Instagram",
        Network::Vk => lang.pick("ВКонтакте", "VK"),
        Network::Telegram => "Telegram",
    }
}

pub fn kind_name(lang: Lang, kind: ActivityKind) -> &'static str {
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
pub fn activity(lang: Lang, kind: ActivityKind, network: Network) -> String {
    let (kind, network) = (kind_name(lang, kind), network_name(lang, network));
    match lang {
        Lang::Ru => format!("{kind} · {network}"),
        Lang::En => format!("{kind} on {network}"),
    }
}

/// Names the history needs that events only reference by id.
#[derive(Default)]
pub struct Names {
    pub campaigns: HashMap<Uuid, String>,
    pub rewards: HashMap<Uuid, String>,
}

/// One line of a member's history.
pub fn history_line(lang: Lang, event: &Event, names: &Names) -> String {
    let unknown = lang.pick("награда", "reward");
    match event {
        Event::MemberRegistered { .. } => lang
            .pick("Вы присоединились к программе", "You joined the program")
            .into(),
        Event::AccountLinked { identity, .. } => {
            let network = network_name(lang, identity.network);
            match lang {
                Lang::Ru => format!("Привязан аккаунт {network}"),
                Lang::En => format!("{network} account linked"),
            }
        }
        Event::AccountUnlinked { identity, .. } => {
            let network = network_name(lang, identity.network);
            match lang {
                Lang::Ru => format!("Аккаунт {network} отвязан"),
                Lang::En => format!("{network} account unlinked"),
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
                Lang::Ru => format!("Кодовое слово «{name}» · {network}"),
                Lang::En => format!("Codeword “{name}” on {network}"),
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
                Lang::Ru => format!("Баллы списаны: {why} ({network})"),
                Lang::En => format!("Points taken back: {why} ({network})"),
            }
        }
        Event::AwardRestored { network, .. } => {
            let network = network_name(lang, *network);
            match lang {
                Lang::Ru => format!("Баллы возвращены ({network})"),
                Lang::En => format!("Points restored ({network})"),
            }
        }
        // The manager's reason is internal: the member sees the note, if there is one.
        Event::PointsAdjusted {
            note, compensates, ..
        } => {
            let what = match (compensates.is_some(), lang) {
                (true, Lang::Ru) => "Исправление от команды бренда",
                (true, Lang::En) => "Correction by the brand's team",
                (false, Lang::Ru) => "От команды бренда",
                (false, Lang::En) => "From the brand's team",
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
                Lang::Ru => format!("Награда «{title}» · купон {coupon_code}"),
                Lang::En => format!("Reward “{title}” · coupon {coupon_code}"),
            }
        }
        // The manager's reason is internal, as an adjustment's is: the member is told the outcome.
        Event::RedemptionCancelled { reward_id, .. } => {
            let title = names
                .rewards
                .get(&reward_id.0)
                .map_or(unknown, String::as_str);
            match lang {
                Lang::Ru => format!("Награда «{title}» отменена, баллы возвращены"),
                Lang::En => format!("Reward “{title}” cancelled, points returned"),
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
pub fn campaign_how_to(lang: Lang, networks: &[Network]) -> String {
    let names: Vec<&str> = networks.iter().map(|n| network_name(lang, *n)).collect();
    let names = names.join(", ");
    match lang {
        Lang::Ru => format!(
            "Найдите кодовое слово в публикациях бренда ({names}) и напишите его в комментарии \
             или сообщении."
        ),
        Lang::En => format!(
            "Find the codeword in the brand's posts ({names}) and write it in a comment or \
             message."
        ),
    }
}

/// Why a subscription shows the status it does (`subscribed`, `left`, `not_seen`,
/// `unverifiable`).
pub fn subscription_note(lang: Lang, network: Network, status: &str) -> String {
    let vk = network == Network::Vk;
    let text = match (status, lang) {
        ("unverifiable", Lang::Ru) => {
            "Instagram не сообщает, кто подписан на бренд: чтобы получить баллы, напишите \
             кодовое слово в комментарии."
        }
        ("unverifiable", Lang::En) => {
            "Instagram does not tell anyone who follows the brand: write the codeword in a \
             comment to earn instead."
        }
        ("subscribed", Lang::Ru) if vk => "Вы состоите в сообществе ВКонтакте, бонус начислен.",
        ("subscribed", Lang::Ru) => "Вы подписаны на канал в Telegram, бонус начислен.",
        ("subscribed", Lang::En) if vk => "You are in the VK community; bonus received.",
        ("subscribed", Lang::En) => "You are subscribed to the Telegram channel; bonus received.",
        ("left", Lang::Ru) if vk => "Вы вышли из сообщества ВКонтакте, бонус списан.",
        ("left", Lang::Ru) => "Вы отписались от канала в Telegram, бонус списан.",
        ("left", Lang::En) if vk => "You left the VK community; the bonus was taken back.",
        ("left", Lang::En) => "You left the Telegram channel; the bonus was taken back.",
        (_, Lang::Ru) if vk => "Вступите в сообщество бренда ВКонтакте, чтобы получить бонус.",
        (_, Lang::Ru) => "Подпишитесь на канал бренда в Telegram, чтобы получить бонус.",
        (_, Lang::En) if vk => "Join the brand's VK community to get the bonus.",
        (_, Lang::En) => "Subscribe to the brand's Telegram channel to get the bonus.",
    };
    text.to_string()
}
