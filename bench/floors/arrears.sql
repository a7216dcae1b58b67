-- Floor for the arrears report (daftar tunggakan) of one LKMM at a date: one statement computing, from
-- the facts only (schedule, payments, versioned allocation rows, waivers, moves of principal), every
-- loan past due with its days past due, overdue principal + interest, late fees owed, outstanding
-- principal, quality class, member and current group. It never reads the kept *_derived columns.
--
--   psql -h 127.0.0.1 -U postgres -d lkmm_bench_small -v at=2026-12-02 -v lkmm=16 -f bench/floors/arrears.sql
--
-- The same rules as LoanQuerySet.with_history_standing: a payment counts at `at` when it is valued on or
-- before it and its allocation row is valid at it; an installment is past due when it fell due before
-- `at` and its principal + interest (less interest waived) is not fully paid; a late fee is owed on
-- each installment due before `at` that was not fully paid by the end of its due date.
-- The CTEs inst, per_loan and s are the same in arrears.sql, portfolio_by_lkmm.sql and month_end.sql.
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
    WHERE l.lkmm_id = :lkmm
      AND l.status IN ('aktif', 'lunas', 'direstrukturisasi', 'dihapusbukukan')
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
           -- A loan whose principal moved (restructured, written off) by `at` owes nothing from then on.
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
)
SELECT s.id,
       s.number,
       m.full_name,
       g.name AS group_name,
       s.principal,
       s.outstanding,
       s.overdue_amount,
       s.overdue_fees,
       :'at'::date - s.oldest_overdue_on AS days_past_due,
       c.id AS quality_class_id
FROM s
JOIN institutions_lkmm k ON k.id = s.lkmm_id
JOIN members_member m ON m.id = s.member_id
-- The quality class: the first class of the LKMM's policy whose threshold for the loan's frequency is
-- empty or at least the days past due.
LEFT JOIN LATERAL (
    SELECT qc.id
    FROM risk_qualityclass qc
    WHERE qc.policy_id = k.quality_policy_id
      AND (CASE s.frequency WHEN 'daily' THEN qc.max_dpd_daily WHEN 'weekly' THEN qc.max_dpd_weekly
                            ELSE qc.max_dpd_monthly END IS NULL
           OR s.oldest_overdue_on >= :'at'::date - CASE s.frequency WHEN 'daily' THEN qc.max_dpd_daily
                                                   WHEN 'weekly' THEN qc.max_dpd_weekly
                                                   ELSE qc.max_dpd_monthly END)
    ORDER BY qc.position
    LIMIT 1
) c ON true
LEFT JOIN LATERAL (
    SELECT gr.name
    FROM members_groupmembership gm JOIN members_group gr ON gr.id = gm.group_id
    WHERE gm.member_id = m.id AND gm.left_on IS NULL
    LIMIT 1
) g ON true
WHERE s.outstanding > 0 AND s.oldest_overdue_on IS NOT NULL
ORDER BY s.oldest_overdue_on, s.number;
