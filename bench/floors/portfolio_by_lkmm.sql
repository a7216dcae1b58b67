-- Floor for the portfolio by LKMM (risk.selectors.portfolio_by_lkmm, the Dinas overview) at a date: one
-- statement computing, from the facts only, every LKMM's portfolio measures: loans with principal
-- outstanding, outstanding, overdue, past-due loans, NPL, PAR1/30/90, required reserve (PPAP), the KSP
-- problem-loan figure, the reserve held (cadangan risiko in the ledger) and active members. It never
-- reads the kept *_derived columns.
--
--   psql -h 127.0.0.1 -U postgres -d lkmm_bench_small -v at=2026-12-02 -f bench/floors/portfolio_by_lkmm.sql
--
-- required and ksp_problem are sums of whole rupiah, each loan rounded half up on its own (as
-- risk.selectors does; numeric round() is half away from zero, the same for these positive amounts).
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
               AS overdue_amount
    FROM per_loan p
    JOIN loans_loan l ON l.id = p.loan_id
), figures AS (
    SELECT s.lkmm_id,
           count(*) AS loans,
           sum(s.outstanding) AS outstanding,
           sum(s.overdue_amount) AS overdue,
           count(*) FILTER (WHERE s.oldest_overdue_on IS NOT NULL) AS past_due_loans,
           coalesce(sum(s.outstanding) FILTER (WHERE c.non_performing), 0) AS npl,
           coalesce(sum(s.outstanding) FILTER (WHERE s.oldest_overdue_on IS NOT NULL
                                                  OR s.restructured_from_id IS NOT NULL), 0) AS par1,
           coalesce(sum(s.outstanding) FILTER (WHERE s.oldest_overdue_on < :'at'::date - 30
                                                  OR s.restructured_from_id IS NOT NULL), 0) AS par30,
           coalesce(sum(s.outstanding) FILTER (WHERE s.oldest_overdue_on < :'at'::date - 90
                                                  OR s.restructured_from_id IS NOT NULL), 0) AS par90,
           sum(round(s.outstanding * coalesce(c.reserve_rate, 0) / 100)) AS required,
           sum(round(s.outstanding * coalesce(c.ksp_weight, 0) / 100)) AS ksp_problem
    FROM s
    JOIN institutions_lkmm k ON k.id = s.lkmm_id
    -- The quality class: the first class of the LKMM's policy whose threshold for the loan's frequency
    -- is empty or at least the days past due (none past due: the first class).
    LEFT JOIN LATERAL (
        SELECT qc.non_performing, qc.reserve_rate, qc.ksp_weight
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
    GROUP BY s.lkmm_id
), held AS (
    SELECT a.lkmm_id, sum(jl.credit) - sum(jl.debit) AS held
    FROM ledger_journalline jl
    JOIN ledger_account a ON a.id = jl.account_id
    JOIN ledger_journalentry e ON e.id = jl.entry_id
    WHERE a.code = '1209' AND e.date <= :'at'
    GROUP BY a.lkmm_id
), members AS (
    SELECT lkmm_id, count(*) AS members FROM members_member WHERE status = 'aktif' GROUP BY lkmm_id
)
SELECT k.id AS lkmm_id,
       coalesce(f.loans, 0) AS loans,
       coalesce(f.outstanding, 0) AS outstanding,
       coalesce(f.overdue, 0) AS overdue,
       coalesce(f.past_due_loans, 0) AS past_due_loans,
       coalesce(f.npl, 0) AS npl,
       coalesce(f.par1, 0) AS par1,
       coalesce(f.par30, 0) AS par30,
       coalesce(f.par90, 0) AS par90,
       coalesce(f.required, 0) AS required,
       coalesce(f.ksp_problem, 0) AS ksp_problem,
       coalesce(h.held, 0) AS held,
       coalesce(m.members, 0) AS members
FROM institutions_lkmm k
LEFT JOIN figures f ON f.lkmm_id = k.id
LEFT JOIN held h ON h.lkmm_id = k.id
LEFT JOIN members m ON m.lkmm_id = k.id
ORDER BY k.id;
