//! LIKE patterns that match text literally: `%`, `_` and `\` in what is
//! matched are escaped, so a prefix filter keeps its whole prefix (which is
//! also what lets PostgreSQL use a pattern index for it).

use sea_orm::sea_query::LikeExpr;

/// `LIKE` of every value starting with `prefix`, escape character `\`.
pub fn prefix_like(prefix: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, PostgresQueryBuilder, Query};

    use super::*;

    #[test]
    fn wildcards_in_the_prefix_match_themselves() {
        let sql = Query::select()
            .column(Alias::new("k"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("k")).like(prefix_like(r"res_a%b\@")))
            .to_string(PostgresQueryBuilder);
        assert!(
            sql.ends_with(r#""k" LIKE E'res\\_a\\%b\\\\@%' ESCAPE E'\\'"#),
            "{sql}"
        );
    }
}
