//! What the bot says in a managers' chat, in the chat's language (Russian or English).

use super::digest::Facts;
use app::Language;

/// The chat's language setting (`ru` or `en`).
pub fn lang(setting: &str) -> Language {
    match setting {
        "en" => Language::En,
        _ => Language::Ru,
    }
}

pub fn anonymous(lang: Language) -> String {
    match lang {
        Language::Ru => "участник без имени".into(),
        Language::En => "unnamed member".into(),
    }
}

fn kind_name(lang: Language, kind: &str) -> String {
    let (ru, en) = match kind {
        "award" => ("крупные начисления", "large awards"),
        "hourly" => ("много баллов за час", "many points in an hour"),
        "stock" => ("награды на исходе", "rewards running low"),
        "rights" => ("бот потерял права", "bot lost its rights"),
        "silent" => ("каналы без доставок", "channels without deliveries"),
        "refused" => ("всплески отказов в доставке", "refused delivery spikes"),
        "lag" => ("отставание проекций", "projections lagging"),
        other => (other, other),
    };
    match lang {
        Language::Ru => ru.into(),
        Language::En => en.into(),
    }
}

pub fn digest(lang: Language, program: &str, f: &Facts) -> String {
    let day = f.day.format("%d.%m.%Y");
    let c = &f.counts;
    let top = if f.top.is_empty() {
        match lang {
            Language::Ru => "пока никого".to_string(),
            Language::En => "nobody yet".to_string(),
        }
    } else {
        f.top
            .iter()
            .enumerate()
            .map(|(i, (name, score))| format!("{}. {name} — {score}", i + 1))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let unusual = if f.unusual.is_empty() {
        match lang {
            Language::Ru => "ничего".to_string(),
            Language::En => "nothing".to_string(),
        }
    } else {
        f.unusual
            .iter()
            .map(|(kind, n)| format!("{} — {n}", kind_name(lang, kind)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match lang {
        Language::Ru => format!(
            "📊 Сводка «{program}» за {day}\n\
             Новых участников: {}, активных: {}\n\
             Начислено баллов: {}, отменено: {}\n\
             Потрачено на награды: {} ({} купонов)\n\
             Кодовые слова: {} ({} баллов)\n\
             Ручные изменения: {}, отмены менеджерами: {}\n\
             Лидеры недели: {top}\n\
             Отклонённые доставки: {}\n\
             Необычное: {unusual}",
            f.new_members,
            f.active_members,
            f.points_awarded,
            f.points_reversed,
            c.points_spent,
            c.coupons_issued,
            c.codewords,
            c.codeword_points,
            c.adjustments,
            c.manager_reversals,
            f.refused,
        ),
        Language::En => format!(
            "📊 “{program}” digest for {day}\n\
             New members: {}, active: {}\n\
             Points awarded: {}, reversed: {}\n\
             Spent on rewards: {} ({} coupons)\n\
             Codewords: {} ({} points)\n\
             Manual adjustments: {}, reversals by managers: {}\n\
             Top of the week: {top}\n\
             Refused deliveries: {}\n\
             Unusual: {unusual}",
            f.new_members,
            f.active_members,
            f.points_awarded,
            f.points_reversed,
            c.points_spent,
            c.coupons_issued,
            c.codewords,
            c.codeword_points,
            c.adjustments,
            c.manager_reversals,
            f.refused,
        ),
    }
}

pub fn rights_lost(lang: Language, chat: &str) -> String {
    match lang {
        Language::Ru => format!(
            "🚨 Бот больше не администратор в {chat}: реакции, вступления и проверки подписки \
             не приходят. Сделайте бота администратором снова."
        ),
        Language::En => format!(
            "🚨 The bot is no longer an administrator in {chat}: reactions, joins and \
             subscription checks stopped. Make the bot an administrator again."
        ),
    }
}

pub fn silent(lang: Language, channel: &str, hours: i32) -> String {
    match lang {
        Language::Ru => format!(
            "🚨 Канал {channel} не получал доставок больше {hours} ч. Проверьте его на \
             странице «Каналы»."
        ),
        Language::En => format!(
            "🚨 Channel {channel} has received no deliveries for over {hours} h. Check it on \
             the Channels page."
        ),
    }
}

pub fn refused(lang: Language, count: i64) -> String {
    match lang {
        Language::Ru => format!(
            "🚨 За последний час отклонено {count} доставок (неверный секрет или подпись). \
             Проверьте секреты каналов."
        ),
        Language::En => format!(
            "🚨 {count} deliveries were refused in the last hour (wrong secret or signature). \
             Check the channels' secrets."
        ),
    }
}

pub fn lag(lang: Language, minutes: i64) -> String {
    match lang {
        Language::Ru => format!(
            "🚨 Данные панели отстают от журнала на {minutes} мин: балансы и отчёты не \
             обновляются."
        ),
        Language::En => format!(
            "🚨 The panel's figures are {minutes} min behind the log: balances and reports are \
             not updating."
        ),
    }
}

pub fn stock_low(lang: Language, title: &str, stock: i64, threshold: u32) -> String {
    match lang {
        Language::Ru => format!(
            "⚠️ «{title}»: осталось {stock} (порог {threshold}). Загрузите коды или добавьте \
             остаток в панели."
        ),
        Language::En => format!(
            "⚠️ “{title}”: {stock} left (alert at {threshold}). Upload codes or add stock in \
             the admin panel."
        ),
    }
}

pub fn large_award(lang: Language, who: &str, points: i64, codeword: bool) -> String {
    match (lang, codeword) {
        (Language::Ru, false) => format!("🔎 Крупное начисление: {who} получил(а) +{points}."),
        (Language::Ru, true) => {
            format!("🔎 Крупный бонус за кодовое слово: {who} получил(а) +{points}.")
        }
        (Language::En, false) => format!("🔎 Large award: {who} earned +{points}."),
        (Language::En, true) => format!("🔎 Large codeword bonus: {who} earned +{points}."),
    }
}

pub fn hourly(lang: Language, who: &str, points: i64) -> String {
    match lang {
        Language::Ru => format!("🔎 Необычно: {who} заработал(а) {points} баллов за час."),
        Language::En => format!("🔎 Unusual: {who} earned {points} points in an hour."),
    }
}

pub fn open_card(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Открыть карточку",
        Language::En => "Open card",
    }
}

pub fn reverse(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Отменить начисление",
        Language::En => "Reverse",
    }
}

pub fn ask_reason(lang: Language, points: i64) -> String {
    match lang {
        Language::Ru => format!(
            "Почему отменить +{points}? Ответьте на это сообщение причиной (её увидят \
             менеджеры и аудиторы, не участник)."
        ),
        Language::En => format!(
            "Why reverse +{points}? Reply to this message with the reason (managers and \
             auditors see it, the member does not)."
        ),
    }
}

pub fn reason_placeholder(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Причина отмены",
        Language::En => "Reason for reversing",
    }
}

pub fn asked(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Напишите причину в ответ на сообщение бота.",
        Language::En => "Write the reason in reply to the bot's message.",
    }
}

pub fn reversed(lang: Language, points: i64, by: &str, reason: &str) -> String {
    match lang {
        Language::Ru => format!("✅ Начисление +{points} отменено ({by}). Причина: {reason}"),
        Language::En => format!("✅ Award +{points} reversed ({by}). Reason: {reason}"),
    }
}

pub fn already_reversed(lang: Language, by: Option<&str>) -> String {
    match (lang, by) {
        (Language::Ru, Some(by)) => format!("Это начисление уже отменено ({by})."),
        (Language::Ru, None) => "Это начисление уже отменено.".into(),
        (Language::En, Some(by)) => format!("This award is already reversed ({by})."),
        (Language::En, None) => "This award is already reversed.".into(),
    }
}

pub fn stale_button(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Эта кнопка больше не действует.",
        Language::En => "This button no longer works.",
    }
}

pub fn reason_required(lang: Language, max: usize) -> String {
    match lang {
        Language::Ru => format!("Нужна причина: от 1 до {max} символов. Ответьте ещё раз."),
        Language::En => format!("A reason is needed: 1 to {max} characters. Reply again."),
    }
}

pub fn refused_reversal(lang: Language, why: &str) -> String {
    match lang {
        Language::Ru => format!("Не отменено: {why}"),
        Language::En => format!("Not reversed: {why}"),
    }
}

/// Why a Telegram user may not act for a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No active admin account has this Telegram user linked.
    NotLinked,
    /// The account's role only reads.
    ReadOnly,
    /// The account is limited to other programs.
    OtherProgram,
}

pub fn refusal(lang: Language, why: Refusal) -> &'static str {
    match (lang, why) {
        (Language::Ru, Refusal::NotLinked) => {
            "Ваш Telegram не привязан к действующей учётной записи панели. Привяжите его на \
             странице «Учётная запись»."
        }
        (Language::Ru, Refusal::ReadOnly) => {
            "Ваша роль в панели только для просмотра: это могут администраторы и менеджеры."
        }
        (Language::Ru, Refusal::OtherProgram) => {
            "Ваша учётная запись не управляет этой программой."
        }
        (Language::En, Refusal::NotLinked) => {
            "Your Telegram is not linked to an active admin panel account. Link it on the \
             Account page."
        }
        (Language::En, Refusal::ReadOnly) => {
            "Your panel role only reads: admins and managers may do this."
        }
        (Language::En, Refusal::OtherProgram) => "Your account does not manage this program.",
    }
}

pub fn connected(lang: Language, program: &str, time: &str, tz: &str) -> String {
    match lang {
        Language::Ru => format!(
            "✅ Этот чат — чат менеджеров программы «{program}». Сводка каждый день в {time} \
             ({tz}), срочное — сразу. Отключить: /managers off"
        ),
        Language::En => format!(
            "✅ This chat is now the managers' chat of “{program}”. A digest every day at \
             {time} ({tz}), urgent things at once. To disconnect: /managers off"
        ),
    }
}

pub fn disconnected(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Чат менеджеров отключён: сводок и оповещений здесь больше не будет.",
        Language::En => "The managers' chat is disconnected: no more digests or alerts here.",
    }
}

pub fn not_managers_chat(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Этот чат не подключён как чат менеджеров.",
        Language::En => "This chat is not connected as a managers' chat.",
    }
}

pub fn taken(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Этот чат уже подключён как чат менеджеров другой программы.",
        Language::En => "This chat is already another program's managers' chat.",
    }
}

pub fn is_channel(lang: Language) -> &'static str {
    match lang {
        Language::Ru => {
            "Этот чат подключён к программе как канал: участники получают здесь баллы. Для \
             менеджеров создайте отдельную закрытую группу."
        }
        Language::En => {
            "This chat is one of the program's channels: members earn points here. Make a \
             separate private group for managers."
        }
    }
}

pub fn no_program(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "Бот ещё не настроен: программа не выбрана.",
        Language::En => "The bot is not set up yet: no program is chosen.",
    }
}
