//! A coupon's QR code, drawn on the page as one SVG path: the till scans it instead of
//! reading the code aloud. Encoded here (the `qrcode` crate) so the page needs no library and
//! never inserts markup: it sets the path's `d` attribute.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Modules of white border around the symbol the standard asks for.
const QUIET_ZONE: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Qr {
    /// Width and height in modules, border included: the SVG's viewBox is `0 0 size size`.
    pub size: u32,
    /// SVG path data of the dark modules, one rectangle per horizontal run.
    pub path: String,
}

/// The QR code of `text`, medium error correction; `None` if it does not fit in a symbol.
pub fn qr(text: &str) -> Option<Qr> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let dark: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let mut path = String::new();
    for (y, row) in dark.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if !row[x] {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|d| **d).count();
            path.push_str(&format!(
                "M{} {}h{run}v1h-{run}z",
                x + QUIET_ZONE,
                y + QUIET_ZONE
            ));
            x += run;
        }
    }
    Some(Qr {
        size: u32::try_from(width + 2 * QUIET_ZONE).ok()?,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paints the path back into a grid, so the test reads what the page draws.
    fn painted(qr: &Qr) -> Vec<Vec<bool>> {
        let size = qr.size as usize;
        let mut grid = vec![vec![false; size]; size];
        for rect in qr.path.split('z').filter(|r| !r.is_empty()) {
            let (start, run) = rect.trim_start_matches('M').split_once('h').unwrap();
            let (x, y) = start.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let run: usize = run.split_once('v').unwrap().0.parse().unwrap();
            for cell in &mut grid[y][x..x + run] {
                assert!(!*cell, "runs overlap at {x},{y}");
                *cell = true;
            }
        }
        grid
    }

    #[test]
    fn the_path_draws_exactly_the_codes_dark_modules_inside_a_quiet_zone() {
        let code = qrcode::QrCode::with_error_correction_level("CPN-ABCD-2345", qrcode::EcLevel::M)
            .unwrap();
        let qr = qr("CPN-ABCD-2345").unwrap();
        assert_eq!(qr.size as usize, code.width() + 8);
        let grid = painted(&qr);
        for (y, row) in grid.iter().enumerate() {
            for (x, dark) in row.iter().enumerate() {
                let inside =
                    (4..4 + code.width()).contains(&x) && (4..4 + code.width()).contains(&y);
                let expected = inside && code[(x - 4, y - 4)] == qrcode::Color::Dark;
                assert_eq!(*dark, expected, "module {x},{y}");
            }
        }
        // Finder patterns: the top-left corner of the symbol is dark.
        assert!(grid[4][4]);
    }

    #[test]
    fn text_too_long_for_any_symbol_has_no_code() {
        assert!(qr(&"x".repeat(5_000)).is_none());
    }
}
