"""Mutations, selection, FEC and config parsing: the search's building blocks."""

from __future__ import annotations

import random
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from programs import ALL_OPS, NON_RANDOM_OPS

from evolve.config import apply_overrides, config_from_dict, load_config
from evolve.errors import ConfigError
from evolve.evaluation.evaluator import SearchEvaluator
from evolve.evaluation.fec import FECCache
from evolve.evaluation.scoring import TaskBatch, evaluate
from evolve.search.evolution import select_tournaments
from evolve.search.mutation import MUTATORS, SearchSpace, mutate
from primitives.generate import random_program
from primitives.memory import FIRST_OUT_ADDRESS, MemorySpec
from primitives.ops import OPS, OPS_BY_NAME
from primitives.program import Program, validate
from problems.registry import get_tasks, make_suite

MEMORY = MemorySpec(5, 4, 2)
SPACE = SearchSpace(
    ops=(
        ALL_OPS,
        NON_RANDOM_OPS,
        (1, 2, 3, 18, 23, 27, 56, 57, 58, 28, 39),
    ),
    init_sizes=(3, 2, 4),
    min_sizes=(1, 1, 2),
    max_sizes=(6, 4, 7),
    memory=MEMORY,
)


def _component_ops_ok(program, space):
    for c in range(3):
        rows, _ = program.component(c)
        assert all(int(code) in space.ops[c] for code in rows[:, 0]), (c, rows[:, 0])


@pytest.mark.parametrize("name", sorted(MUTATORS))
def test_mutations_respect_kinds_addresses_and_sizes(name):
    rng = random.Random(7)
    program = SPACE.random_program(rng)
    for _ in range(300):
        program = MUTATORS[name](program.copy(), SPACE, rng)
        validate(program, MEMORY)
        _component_ops_ok(program, SPACE)
        for c in range(3):
            assert SPACE.min_sizes[c] <= program.sizes[c] <= SPACE.max_sizes[c]
        for row in program.instructions:
            op = OPS[int(row[0])]
            if op.output is not None:
                assert row[3] >= FIRST_OUT_ADDRESS[op.output]


def test_mutations_change_programs_and_are_seeded():
    def chain(seed):
        rng = random.Random(seed)
        program = SPACE.random_program(rng)
        out = []
        for _ in range(50):
            program = mutate(program.copy(), SPACE, ("alter_param", "insert", "remove", "trade"), rng)
            out.append(program.key())
        return out

    assert chain(1) == chain(1)
    assert chain(1) != chain(2)
    assert len(set(chain(3))) > 25


def test_alter_param_changes_exactly_one_field():
    rng = random.Random(3)
    changed = 0
    for _ in range(200):
        parent = SPACE.random_program(rng)
        child = MUTATORS["alter_param"](parent.copy(), SPACE, rng)
        diff = int((parent.instructions != child.instructions).sum() + (parent.constants != child.constants).sum())
        assert diff <= 1
        changed += diff
    assert changed > 100


def test_constants_mutate_in_log_space_with_sign_flips():
    from evolve.search.mutation import mutate_constant

    rng = random.Random(0)
    values = np.array([mutate_constant(0.5, "value", rng) for _ in range(5000)])
    assert 0.05 < np.mean(values < 0) < 0.15
    ratios = np.log(np.abs(values) / 0.5)
    assert abs(np.mean(ratios)) < 0.05 and 0.4 < np.std(ratios) < 0.6
    std = [mutate_constant(0.5, "std", rng) for _ in range(500)]
    assert min(std) > 0


def test_tournament_selection_matches_definition():
    rng = np.random.default_rng(0)
    fitness = rng.random(50)
    winners = select_tournaments(fitness, 2000, 5, np.random.default_rng(1))
    draws = np.random.default_rng(1).integers(0, 50, size=(2000, 5))
    expected = [row[np.argmax(fitness[row])] for row in draws]
    assert winners.tolist() == expected
    # Larger tournaments select fitter parents.
    strong = select_tournaments(fitness, 2000, 20, np.random.default_rng(2))
    assert fitness[strong].mean() > fitness[winners].mean()


def _linear_batch(n_tasks=4):
    suite = make_suite("linear", {})
    return TaskBatch.from_tasks(get_tasks(suite, "search", n_tasks, 0))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_fec_never_changes_the_fitness_of_a_deterministic_program(seed):
    rng = np.random.default_rng(seed)
    memory = MemorySpec(4, 3, 1)
    deterministic = list(NON_RANDOM_OPS)
    programs = [random_program((3, 2, 4), [deterministic] * 3, memory, rng) for _ in range(6)]
    programs += [p.copy() for p in programs[:3]]  # repeats must hit the cache
    batch = _linear_batch()
    plain = evaluate(programs, batch, memory)
    evaluator = SearchEvaluator(batch, memory, fec=True)
    first = evaluator(programs)
    second = evaluator(programs)
    np.testing.assert_array_equal(first, plain)
    np.testing.assert_array_equal(second, plain)
    assert evaluator.cache.hits >= len(programs)


def test_fec_hit_rate_and_lru_in_halves():
    cache = FECCache(4)
    for key in range(5):
        cache.put(key, key / 10)
    assert cache.keys_by_age().tolist() == [2, 3, 4]  # full at 4: the older half went
    assert cache.get(0) is None and cache.get(3) == 0.3
    assert cache.keys_by_age().tolist() == [2, 4, 3]
    cache.put(5, 0.5)
    cache.put(6, 0.6)
    assert cache.keys_by_age().tolist() == [3, 5, 6]
    assert cache.hit_rate == 0.5
    restored = FECCache(4)
    restored.load_arrays(cache.to_arrays())
    assert restored.keys_by_age().tolist() == [3, 5, 6] and restored.hits == 1
    assert restored.get(5) == 0.5


class _ReferenceCache:
    """The slow, obvious model: an OrderedDict, least recently used first, dropped in halves."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.entries = OrderedDict()

    def lookup(self, key):
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        return None

    def insert(self, key, value):
        if len(self.entries) >= self.capacity:
            while len(self.entries) > self.capacity // 2:
                self.entries.popitem(last=False)
        self.entries[key] = value


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 60), max_size=12)),
                                    max_size=40))
def test_fec_table_equals_reference_model(capacity, operations):
    cache, reference = FECCache(capacity), _ReferenceCache(capacity)
    for is_lookup, keys in operations:
        keys = list(dict.fromkeys(keys))  # distinct within one call, as the evaluator makes them
        if is_lookup:
            values, found = cache.lookup(np.array(keys, dtype=np.uint64))
            expected = [reference.lookup(k) for k in keys]
            assert found.tolist() == [e is not None for e in expected]
            assert [float(v) for v, f in zip(values, found, strict=True) if f] == [e for e in expected if e is not None]
        else:
            absent = [k for k in keys if k not in reference.entries]
            cache.insert(np.array(absent, dtype=np.uint64), np.array(absent, dtype=np.float64) / 70)
            for k in absent:
                reference.insert(k, k / 70)  # fitness lies in [0, 1]: keys 0..60 / 70
        assert cache.keys_by_age().tolist() == list(reference.entries)
    copy = FECCache(capacity)
    copy.load_arrays(cache.to_arrays())
    assert copy.keys_by_age().tolist() == list(reference.entries)


def test_fec_table_grows_and_keeps_every_entry():
    cache = FECCache(100_000)
    keys = np.random.default_rng(0).integers(0, 2**63, size=20_000, dtype=np.uint64)
    keys = np.unique(keys)
    cache.insert(keys, keys.astype(np.float64))
    values, found = cache.lookup(keys)
    assert found.all() and np.array_equal(values, keys.astype(np.float64))
    assert len(cache) == len(keys)


def test_hurdles_score_passing_programs_on_all_tasks():
    memory = MemorySpec(4, 3, 1)
    batch = _linear_batch(6)
    rng = np.random.default_rng(0)
    programs = [random_program((3, 2, 4), [list(NON_RANDOM_OPS)] * 3, memory, rng) for _ in range(40)]
    full = evaluate(programs, batch, memory)
    evaluator = SearchEvaluator(batch, memory, fec=False, hurdle_tasks=2)
    evaluator.hurdle_scores = [0.0] * 20  # a hurdle everyone passes
    np.testing.assert_allclose(evaluator(programs), full, rtol=0, atol=1e-15)
    evaluator.hurdle_scores = [2.0] * 20  # nobody passes: the hurdle-subset score stays
    early = evaluate(programs, batch.subset(slice(0, 2)), memory)
    np.testing.assert_allclose(evaluator(programs), early, rtol=0, atol=1e-15)


def test_compute_budget_scores_expensive_programs_zero():
    memory = MemorySpec(4, 3, 2)
    batch = _linear_batch(2)
    from primitives.program import Program

    cheap = Program.from_components([[], [(27, 1, 0, 1)], []])
    costly = Program.from_components([[], [(43, 0, 0, 1)] * 6 + [(27, 1, 0, 1)], []])
    evaluator = SearchEvaluator(batch, memory, fec=False, max_cost=5000)
    fit = evaluator([cheap, costly])
    assert fit[1] == 0.0 and fit[0] > 0.0


def test_packed_costs_equal_program_cost():
    """The batch form of the compute budget's cost (what the evaluator uses) against
    :func:`program_cost` one program at a time, on random programs over every op, some with
    empty components, packed with junk rows after the last program (as the mutator leaves)."""
    from evolve.evaluation.evaluator import op_costs, packed_costs, program_cost
    from primitives.program import pack

    rng = np.random.default_rng(3)
    memory = MemorySpec(6, 5, 3)
    ops = [op.code for op in OPS]
    programs = [random_program([int(rng.integers(0, 4)), int(rng.integers(0, 6)), int(rng.integers(0, 6))],
                               [ops] * 3, memory, rng) for _ in range(60)]
    code, _, bounds = pack(programs)
    junk = np.vstack([code, np.full((7, 4), 10**9, np.int64)])
    for features in (4, 16):
        costs = op_costs(features)
        want = [program_cost(p, costs, 100, 50, 3) for p in programs]
        assert packed_costs(junk, bounds, costs, 100, 50, 3).tolist() == want


# ---------------------------------------------------------------- config


def test_presets_load_and_round_trip():
    from evolve.config import config_to_dict, preset_names

    for name in preset_names():
        config = load_config(name)
        assert config_from_dict(config_to_dict(config)) == config


def test_linear_demo_matches_automl_zero_run_demo():
    c = load_config("linear-demo")
    assert (c.memory.scalars, c.memory.vectors, c.memory.matrices) == (4, 3, 1)
    assert c.algorithm.init_sizes == c.algorithm.min_sizes == c.algorithm.max_sizes == (10, 2, 8)
    ops = {"scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product",
           "scalar_vector_product", "vector_sum"}
    assert set(c.algorithm.setup_ops) == set(c.algorithm.predict_ops) == set(c.algorithm.learn_ops) == ops
    assert (c.search.population_size, c.search.tournament_size, c.search.mutate_prob) == (1000, 10, 0.9)
    assert c.problem.select == {"num_train_examples": 1000, "num_valid_examples": 100}
    assert all(name in OPS_BY_NAME for name in ops)


_toml_values = st.recursive(
    st.none().map(lambda _: 0) | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["seed", "name", "problem", "tasks", "memory", "algorithm", "search", "evaluation",
                     "campaign", "bogus"]),
    _toml_values | st.dictionaries(
        st.sampled_from(["population_size", "tournament_size", "mutations", "search", "scalars",
                         "init_sizes", "setup_ops", "fec", "name", "select", "budget_minutes", "x"]),
        _toml_values, max_size=4),
    max_size=5,
))
def test_config_fuzz_only_clear_errors(data):
    try:
        config_from_dict(data)
    except ConfigError as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=4))
def test_set_override_fuzz_only_clear_errors(overrides):
    try:
        config_from_dict(apply_overrides({}, overrides))
    except ConfigError as exc:
        assert str(exc)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200) | st.sampled_from([
    "[search]\npopulation_size = 'x'", "seed = 1\n[tasks]\nsearch = -1", "[problem]\nname = 3",
    "[problem.select]\nfoo = {a = 1}", "name = [1, 2]", "[memory]\nscalars = 1e400",
]))
def test_config_file_fuzz_only_clear_errors(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "c.toml"
    path.write_text(text)
    try:
        load_config(str(path))
    except ConfigError as exc:
        assert str(exc)


def _small_evolution(jit: bool = True):
    """A toolbox over a small linear-regression space and its initial population of 40."""
    from evolve.search.evolution import initial_population, make_toolbox
    from primitives.rng import Stream

    memory = MemorySpec(4, 3, 1)
    space = SearchSpace(((56, 27, 2, 3, 18, 23),) * 3, (4, 2, 4), (2, 1, 2), (6, 3, 6), memory)
    toolbox = make_toolbox(space, ("alter_param", "insert", "remove", "randomize_component"),
                           SearchEvaluator(_linear_batch(3), memory), 5, Stream(11),
                           np.random.default_rng(5), jit=jit)
    return toolbox, initial_population(toolbox, 40, 20, toolbox.random_individual)


def test_jitted_and_python_breeding_give_the_same_evolution():
    from evolve.search.evolution import regularized_evolution

    runs = []
    for jit in (True, False):
        toolbox, population = _small_evolution(jit)
        regularized_evolution(population, toolbox, 400, 0.9, np.random.default_rng(6), batch_size=20)
        runs.append(([p.key() for p in population.members], population.fitness.tolist()))
    assert runs[0] == runs[1]


def test_regularized_evolution_without_kept_children_evolves_the_same():
    from evolve.search.evolution import random_search, regularized_evolution

    runs = []
    for keep in (True, False):
        toolbox, population = _small_evolution()
        children = regularized_evolution(population, toolbox, 300, 0.9, np.random.default_rng(6),
                                         batch_size=20, keep_children=keep)
        candidates = random_search(toolbox, 60, 20, keep_children=keep)
        assert len(children) == (300 if keep else 0) and len(candidates) == (60 if keep else 0)
        runs.append(([p.key() for p in population.members], population.fitness.tolist(),
                     children.fitness.tolist(), candidates.fitness.tolist()))
    assert runs[0] == runs[1]


def test_packed_population_evolves_as_the_general_loop():
    """The packed fast path (parents gathered from the population's ring, children scattered
    back, individuals made only when read) against the general loop over individuals (taken
    when lineage is on): the same members, fitness, ring head, children and hall of fame; and
    the ring always holds exactly what :func:`pack` of the members gives."""
    from evolve.search.evolution import make_hall_of_fame, regularized_evolution
    from evolve.search.population import PackedBrood
    from primitives.program import pack

    runs = []
    for lineage in (False, True):
        toolbox, population = _small_evolution()
        halloffame = make_hall_of_fame(5)
        children = regularized_evolution(population, toolbox, 20, 0.9, np.random.default_rng(6), batch_size=20,
                                         halloffame=halloffame, lineage=lineage)
        assert isinstance(children, PackedBrood) == (not lineage)  # which path ran
        first = ([c.key() for c in children], children.fitness.tolist(), [c.fitness.values for c in children])
        more = regularized_evolution(population, toolbox, 430, 0.9, np.random.default_rng(7), batch_size=20,
                                     halloffame=halloffame, lineage=lineage)
        members = population.members
        assert [m.fitness.values[0] for m in members] == population.fitness.tolist()
        code, data, bounds = pack(members)
        ring = population.packed_members(np.arange(len(members)))
        assert np.array_equal(ring[0], code) and np.array_equal(ring[1], data) and np.array_equal(ring[2], bounds)
        runs.append((first, [c.key() for c in more], more.fitness.tolist(), [m.key() for m in members],
                     population.fitness.tolist(), population.head, [h.key() for h in halloffame]))
    assert runs[0] == runs[1]
    assert max(sum(m.sizes) for m in population.members) > 10  # inserts grew programs past the first ring


def test_population_ring_takes_longer_programs_and_keeps_handed_in_objects():
    """Migrants (individuals handed in) stay the same objects; a program longer than the ring's
    rows grows it; ``k > P`` children in one call leave the last ``P`` (one at a time semantics)."""
    from evolve.search.evolution import Population, as_individual

    def program(n, tag):
        ins = np.zeros((n, 4), np.int64)
        con = np.full((n, 3), float(tag))
        return as_individual(Program(ins, con, (n - 2, 1, 1)), float(tag))

    population = Population([program(3, t) for t in range(4)], np.arange(4.0), head=1)
    migrant = program(9, 10)
    population.replace_oldest_many([migrant], np.array([10.0]))
    assert population.members[1] is migrant and population.head == 2 and population.code.shape[1] == 9
    many = [program(4, 20 + t) for t in range(6)]
    population.replace_oldest_many(many, np.array([20.0 + t for t in range(6)]))
    # slots 2,3,0,1,2,3 in turn: the last writes win
    assert [m.constants[0, 0] for m in population.members] == [22.0, 23.0, 24.0, 25.0]
    assert population.fitness.tolist() == [22.0, 23.0, 24.0, 25.0] and population.head == 0
