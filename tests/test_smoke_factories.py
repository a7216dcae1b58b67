from tests.factories import make_active_loan


def test_active_loan_has_schedule_and_books(db):
    loan = make_active_loan()
    assert loan.status == "aktif"
    assert loan.installments.count() == 10
