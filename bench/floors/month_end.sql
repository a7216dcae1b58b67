-- Floor for the month-end close of every LKMM (risk.services.month_close for each): one statement
-- computing, from the facts only, the figures a close stores at the month's last day: per loan
-- (ClosedLoanFigure: outstanding, overdue, late fees owed, days past due, quality class, reserve rate,
-- required reserve)
-- and per LKMM (the summary: loans, outstanding, overdue, past-due loans, NPL, PAR1/30/90, required
-- reserve, KSP problem loans, reserve held). GROUPING SETS gives both in one result: rows with a
-- loan_id are loans, rows without are the LKMM's summary. It never reads the kept *_derived columns,
-- and it writes nothing (the app also inserts those rows).
--
--   psql -h 127.0.0.1 -U postgres -d lkmm_bench_small -v at=2026-11-30 -f bench/floors/month_end.sql
--
-- The CTEs inst, per_loan and s are the same in arrears.sql, portfolio_by_lkmm.sql and month_end.sql
-- (without the one-LKMM filter).
WITH inst AS (
    SELECT i.loan_id,
           i.due_date,
           i.principal + i.interest - coalesce(w.interest, 0) AS owed,
           coalesce(sum(a.principal + a.interest), 0) AS paid,
           coalesce(sum(a.principal + a.interest) FILTER (WHERE r.paid_on <= i.due_date), 0) AS paid_by_due,
           coalesce(sum(a.principal), 0) AS principal_paid,
           coalesce(sum(a.late_fee), 0) AS fees_paid
    FROM loans_loan l
    JOIN loans_installment i ON i.loan_id = l.id
    LEFT JOIN (SELECT installment_id, sum(interest) AS interest
               FROM loans_waiver WHERE "on" <= :'at' GROUP BY installment_id) w ON w.installment_id = i.id
    LEFT JOIN (loans_allocation a JOIN loans_repayment r ON r.id = a.repayment_id AND r.paid_on <= :'at')
           ON a.installment_id = i.id
          AND (a.valid_from IS NULL OR a.valid_from <= :'at')
          AND (a.valid_to IS NULL OR a.valid_to > :'at')
    WHERE l.status IN ('aktif', 'lunas', 'direstrukturisasi', 'dihapusbukukan')
      AND l.disbursed_on <= :'at'
    GROUP BY i.id, w.interest
), per_loan AS (
    SELECT loan_id,
           sum(principal_paid) AS principal_repaid,
           sum(fees_paid) AS fees_paid,
           min(due_date) FILTER (WHERE due_date < :'at' AND paid < owed) AS oldest,
           coalesce(sum(owed - paid) FILTER (WHERE due_date < :'at'), 0) AS overdue,
           count(*) FILTER (WHERE due_date < :'at' AND paid_by_due < owed) AS late_installments
    FROM inst
    GROUP BY loan_id
), s AS (
    SELECT l.id, l.lkmm_id, l.number, l.member_id, l.principal, l.frequency, l.restructured_from_id,
           CASE WHEN l.transferred_on <= :'at' OR l.written_off_on <= :'at' THEN NULL ELSE p.oldest END
               AS oldest_overdue_on,
           l.principal - p.principal_repaid
               - CASE WHEN l.written_off_on <= :'at' THEN l.written_off_principal ELSE 0 END
               - CASE WHEN l.transferred_on <= :'at' THEN l.transferred_principal ELSE 0 END AS outstanding,
           CASE WHEN l.transferred_on <= :'at' OR l.written_off_on <= :'at' THEN 0 ELSE p.overdue END
               AS overdue_amount,
           CASE WHEN l.transferred_on <= :'at' OR l.written_off_on <= :'at' THEN 0
                ELSE l.late_fee * p.late_installments - p.fees_paid
                     - coalesce((SELECT sum(wf.late_fee) FROM loans_waiver wf
                                 WHERE wf.loan_id = l.id AND wf."on" <= :'at'), 0) END AS overdue_fees
    FROM per_loan p
    JOIN loans_loan l ON l.id = p.loan_id
), held AS (
    SELECT a.lkmm_id, sum(jl.credit) - sum(jl.debit) AS held
    FROM ledger_journalline jl
    JOIN ledger_account a ON a.id = jl.account_id
    JOIN ledger_journalentry e ON e.id = jl.entry_id
    WHERE a.code = '1209' AND e.date <= :'at'
    GROUP BY a.lkmm_id
)
SELECT s.lkmm_id,
       s.id AS loan_id,
       count(*) AS loans,
       sum(s.outstanding) AS outstanding,
       sum(s.overdue_amount) AS overdue,
       sum(s.overdue_fees) AS late_fees,
       max(coalesce(:'at'::date - s.oldest_overdue_on, 0)) AS days_past_due,
       max(c.id) AS quality_class_id,
       max(coalesce(c.reserve_rate, 0)) AS reserve_rate,
       count(*) FILTER (WHERE s.oldest_overdue_on IS NOT NULL) AS past_due_loans,
       coalesce(sum(s.outstanding) FILTER (WHERE c.non_performing), 0) AS npl,
       coalesce(sum(s.outstanding) FILTER (WHERE s.oldest_overdue_on IS NOT NULL
                                              OR s.restructured_from_id IS NOT NULL), 0) AS par1,
       coalesce(sum(s.outstanding) FILTER (WHERE s.oldest_overdue_on < :'at'::date - 30
                                              OR s.restructured_from_id IS NOT NULL), 0) AS par30,
       coalesce(sum(s.outstanding) FILTER (WHERE s.oldest_overdue_on < :'at'::date - 90
                                              OR s.restructured_from_id IS NOT NULL), 0) AS par90,
       sum(round(s.outstanding * coalesce(c.reserve_rate, 0) / 100)) AS required,
       sum(round(s.outstanding * coalesce(c.ksp_weight, 0) / 100)) AS ksp_problem,
       max(coalesce(h.held, 0)) AS held
FROM s
JOIN institutions_lkmm k ON k.id = s.lkmm_id
LEFT JOIN held h ON h.lkmm_id = s.lkmm_id
LEFT JOIN LATERAL (
    SELECT qc.id, qc.non_performing, qc.reserve_rate, qc.ksp_weight
    FROM risk_qualityclass qc
    WHERE qc.policy_id = k.quality_policy_id
      AND (s.oldest_overdue_on IS NULL
           OR CASE s.frequency WHEN 'daily' THEN qc.max_dpd_daily WHEN 'weekly' THEN qc.max_dpd_weekly
                               ELSE qc.max_dpd_monthly END IS NULL
           OR s.oldest_overdue_on >= :'at'::date - CASE s.frequency WHEN 'daily' THEN qc.max_dpd_daily
                                                   WHEN 'weekly' THEN qc.max_dpd_weekly
                                                   ELSE qc.max_dpd_monthly END)
    ORDER BY qc.position
    LIMIT 1
) c ON true
WHERE s.outstanding > 0
GROUP BY GROUPING SETS ((s.lkmm_id), (s.lkmm_id, s.id))
ORDER BY s.lkmm_id, s.id NULLS FIRST;
