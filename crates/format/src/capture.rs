//! The capture-history table as it crosses from the third party to the
//! researcher (`capture.csv`, and synth's `truth_capture.csv` in the same
//! format): one 0/1 column per list, the strata columns, then `count`. This
//! is its one writer; `zicht-estimate` reads it.

/// A capture table: one row per observed capture history (and strata
/// values), with its count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureTable {
    /// List (source) labels, in column order.
    pub lists: Vec<String>,
    /// Strata columns, after the lists.
    pub strata: Vec<String>,
    /// `(history as 0/1 per list, strata values, count)`, in the order
    /// they are written.
    pub rows: Vec<(Vec<bool>, Vec<String>, u64)>,
}

impl CaptureTable {
    /// The table as CSV: the header (list labels, strata columns, `count`),
    /// then one line per row; fields quoted as RFC 4180 asks.
    pub fn to_csv(&self) -> String {
        let mut text = String::new();
        let header: Vec<String> = self
            .lists
            .iter()
            .chain(&self.strata)
            .map(|name| csv_field(name))
            .chain(std::iter::once("count".to_string()))
            .collect();
        text.push_str(&header.join(","));
        text.push('\n');
        for (history, values, count) in &self.rows {
            let fields: Vec<String> = history
                .iter()
                .map(|&on| if on { "1".to_string() } else { "0".to_string() })
                .chain(values.iter().map(|v| csv_field(v)))
                .chain(std::iter::once(count.to_string()))
                .collect();
            text.push_str(&fields.join(","));
            text.push('\n');
        }
        text
    }
}

/// Quote a CSV field when needed (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn writes_lists_strata_and_count() {
        let table = CaptureTable {
            lists: vec!["police".into(), "ngo".into()],
            strata: vec!["region".into()],
            rows: vec![
                (vec![true, false], vec!["north, east".into()], 3),
                (vec![true, true], vec!["south".into()], 1),
            ],
        };
        assert_eq!(
            table.to_csv(),
            "police,ngo,region,count\n1,0,\"north, east\",3\n1,1,south,1\n"
        );
    }
}
