//! Palisade JSON lines: the [`Alert`] exactly as serde writes it, the lossless format (every other
//! format drops or renames something).

use palisade_core::Alert;

pub fn render(alert: &Alert) -> String {
    super::to_json(alert, alert)
}

/// The alert followed by a newline, for JSON-lines files and streams.
pub fn line(alert: &Alert) -> String {
    let mut text = render(alert);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let alert = crate::format::sample::alert();
        let text = line(&alert);
        assert!(text.ends_with('\n'));
        assert_eq!(text.matches('\n').count(), 1, "one alert, one line");
        let back: Alert = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(back, alert);
    }
}
