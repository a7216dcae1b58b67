"""Dividing the SHU (DOMAIN.md "Savings, the year's surplus and cash on hand"): pure arithmetic on whole
rupiah, kept apart from the database so DOMAIN.md's worked example is a table test.

Each pool is the surplus times its percentage, rounded down to the rupiah; what rounding leaves joins the
reserve pool. Each member's share of a pool is the pool times the member's weight over the total weight,
rounded down; what that leaves joins the reserve too. A pool nobody has a weight in (no savings, no
interest paid) goes to the reserve whole.
"""

POOLS = ("reserve", "jasa_simpanan", "jasa_pinjaman", "dana_sosial", "pengurus")


def pools_of(surplus, percents):
    """{pool: amount} for `surplus` (> 0) and `percents` ({pool: 0..100}, summing to 100)."""
    if surplus <= 0:
        return dict.fromkeys(POOLS, 0)
    pools = {pool: surplus * percents[pool] // 100 for pool in POOLS}
    pools["reserve"] += surplus - sum(pools.values())
    return pools


def split(pool, weights):
    """({key: share}, remainder): `pool` shared by `weights` ({key: int >= 0}), each share rounded down."""
    total = sum(weights.values())
    if total <= 0:
        return dict.fromkeys(weights, 0), pool
    shares = {key: pool * weight // total for key, weight in weights.items()}
    return shares, pool - sum(shares.values())


def divide(surplus, percents, savings, interest):
    """The whole division: (pools, {key: (jasa simpanan, jasa pinjaman)}, reserve received).

    `savings` and `interest`: {member key: weight}, the members' average savings (or any multiple of
    them, such as the sum of their 12 month-end balances) and the interest each paid in the year."""
    pools = pools_of(surplus, percents)
    by_savings, savings_left = split(pools["jasa_simpanan"], savings)
    by_interest, interest_left = split(pools["jasa_pinjaman"], interest)
    keys = list(dict.fromkeys([*savings, *interest]))
    shares = {key: (by_savings.get(key, 0), by_interest.get(key, 0)) for key in keys}
    return pools, shares, pools["reserve"] + savings_left + interest_left
