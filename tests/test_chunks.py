"""The chunks the per-agent kernels split the slots into: within the count buffers' rows, an even
number of them (two threads get as many each), and together every slot exactly once."""

from hypothesis import given, settings, strategies as st

from simulation import kernels


@settings(max_examples=300, deadline=None)
@given(n_active=st.integers(min_value=0, max_value=4_294_967_294))
def test_chunk_count_is_even_and_within_the_buffers(n_active):
    n_chunks = kernels.chunks_for(n_active)
    assert 2 <= n_chunks <= kernels.N_CHUNKS
    assert n_chunks % 2 == 0


@settings(max_examples=200, deadline=None)
@given(n_active=st.integers(min_value=0, max_value=2_000_000))
def test_chunks_cover_every_slot_once_in_slot_order(n_active):
    n_chunks = kernels.chunks_for(n_active)
    covered = 0  # slots [0, covered) belong to the chunks seen so far
    for chunk in range(n_chunks):
        start, stop = (int(k) for k in kernels._chunk_slots(chunk, n_chunks, n_active))
        if start >= stop:
            continue  # an empty chunk (more chunks than a few slots need)
        # Slot order is queue order: each chunk starts where the ones before it stopped.
        assert start == covered
        covered = stop
    assert covered == n_active
