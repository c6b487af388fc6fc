import asyncio

from taxicrm.leadership import run_as_leader


async def test_only_one_instance_runs_the_job_and_another_takes_over_when_it_dies(redis_client):
    running: list[str] = []
    overlaps = 0

    def job(name):
        async def work():
            nonlocal overlaps
            running.append(name)
            overlaps += len(set(running)) > 1
            try:
                await asyncio.Event().wait()
            finally:
                running.remove(name)
        return work

    first = asyncio.create_task(run_as_leader(redis_client, "test-job", job("a"), lease_seconds=0.3))
    second = asyncio.create_task(run_as_leader(redis_client, "test-job", job("b"), lease_seconds=0.3))
    await asyncio.sleep(0.5)
    assert len(running) == 1
    leader = first if running == ["a"] else second
    leader.cancel()
    await asyncio.gather(leader, return_exceptions=True)
    for _ in range(30):
        await asyncio.sleep(0.05)
        if running:
            break
    assert running == (["b"] if leader is first else ["a"])
    assert overlaps == 0
    for task in (first, second):
        task.cancel()
    await asyncio.gather(first, second, return_exceptions=True)


async def test_a_stolen_lease_stops_the_job_here(redis_client):
    stopped = asyncio.Event()

    async def work():
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    task = asyncio.create_task(run_as_leader(redis_client, "stolen", work, lease_seconds=0.3))
    await asyncio.sleep(0.15)
    await redis_client.set("taxicrm:leader:stolen", "someone-else")  # e.g. after this instance stalled
    await asyncio.wait_for(stopped.wait(), 2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
