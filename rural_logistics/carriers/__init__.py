"""Several carriers serving the same villages: the designs ``separate``,
``shared_stations`` and ``joint`` (:mod:`.designs`, run by :mod:`.run`), the carriers'
shares of the parcels (:mod:`.shares`), the fair split of the joint cost (:mod:`.game`:
Shapley value, proportional rule, core check) and the run folder (:mod:`.files`)."""
