"""Daily slices of planted listening events, with users and artists arriving over time.

The tastes are those of planted_clicks.py: a user plays an artist with probability
~ exp(1.2 taste.profile + 0.6 age-group appeal + 0.6 location appeal) * popularity. On top:
  arrivals   `first_day_users` of the users and `first_day_items` of the artists exist on day 0,
             the rest arrive on a uniformly drawn later day (a new user's side features are known
             from their first day, their plays only from then on)
  activity   on each day every present user is active with probability `active`, and an active
             user plays a Poisson(`plays_per_day`) number of present artists they have not played
  novelty    an artist's appeal is raised by `novelty` (log scale) on its first days, fading by half
             a day, so new artists collect plays as a release does
Events are (user_id, item_id, weight, day); a scheduled retrain on day d sees days <= d.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .planted_clicks import HISTORY_WEIGHTS


@dataclass
class ReplayData:
    users: dict[str, dict[str, str]]
    events: list[tuple[str, str, float, int]]
    days: int

    def through(self, day: int) -> list[tuple[str, str, float]]:
        """Interaction rows of days <= day (repeated pairs are summed by build_interactions)."""
        return [(u, i, w) for u, i, w, d in self.events if d <= day]

    def on(self, day: int) -> list[tuple[str, str, float]]:
        return [(u, i, w) for u, i, w, d in self.events if d == day]


def make_replay(days: int = 8, num_users: int = 3000, num_items: int = 600, age_groups: int = 5, locations: int = 8,
                dims: int = 8, first_day_users: float = 0.5, first_day_items: float = 0.7, active: float = 0.4,
                plays_per_day: float = 3.0, first_day_plays: int = 15, novelty: float = 1.0,
                seed: int = 3) -> ReplayData:
    """`days` daily slices 0..days-1; day 0 also holds a history of `first_day_plays` per early user."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(0, dims**-0.25, (num_users, dims))
    profile = rng.normal(0, dims**-0.25, (num_items, dims))
    age_appeal = rng.normal(0, 1, (age_groups, num_items))
    location_appeal = rng.normal(0, 1, (locations, num_items))
    log_popularity = -0.8 * np.log1p(rng.permutation(num_items))
    user_age = rng.integers(0, age_groups, num_users)
    user_location = rng.integers(0, locations, num_users)
    user_day = np.where(rng.random(num_users) < first_day_users, 0, rng.integers(1, max(2, days), num_users))
    item_day = np.where(rng.random(num_items) < first_day_items, 0, rng.integers(1, max(2, days), num_items))
    users = {f"u{u}": {"age_group": f"age{user_age[u]}", "location": f"loc{user_location[u]}"}
             for u in range(num_users)}
    logits = (HISTORY_WEIGHTS["collaborative"] * taste @ profile.T
              + HISTORY_WEIGHTS["age_group"] * age_appeal[user_age]
              + HISTORY_WEIGHTS["location"] * location_appeal[user_location] + log_popularity[None, :])
    played = np.zeros((num_users, num_items), dtype=bool)
    events = []
    for day in range(days):
        present = item_day <= day
        fresh = novelty * 0.5 ** np.maximum(day - item_day, 0) * (item_day > 0)
        for u in np.flatnonzero(user_day <= day):
            if day == 0 or user_day[u] == day:
                n = first_day_plays if day == 0 else max(1, rng.poisson(plays_per_day))
            elif rng.random() < active:
                n = rng.poisson(plays_per_day)
            else:
                continue
            open_items = np.flatnonzero(present & ~played[u])
            n = min(n, len(open_items))
            if n == 0:
                continue
            z = logits[u, open_items] + fresh[open_items]
            p = np.exp(z - z.max())
            chosen = open_items[rng.choice(len(open_items), size=n, replace=False, p=p / p.sum())]
            played[u, chosen] = True
            events += [(f"u{u}", f"a{i}", float(rng.integers(1, 50)), day) for i in chosen]
    return ReplayData(users, events, days)
