namespace DistillSpec.Tests.Facade;

public class FifoGateTests
{
    [Fact]
    public async Task WaitersEnterInArrivalOrder()
    {
        var gate = new FifoGate();
        var order = new List<int>();
        var first = await gate.EnterAsync(CancellationToken.None);
        var waiters = Enumerable.Range(0, 5).Select(async i =>
        {
            using (await gate.EnterAsync(CancellationToken.None)) lock (order) order.Add(i);
        }).ToList();
        Assert.Equal(5, gate.Waiting);
        first.Dispose();
        await Task.WhenAll(waiters);
        Assert.Equal([0, 1, 2, 3, 4], order);
        Assert.Equal(0, gate.Waiting);
    }

    [Fact]
    public async Task ACancelledWaiterLeavesTheQueueAndOthersStillEnter()
    {
        var gate = new FifoGate();
        var held = await gate.EnterAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(cancel.Token);
        var next = gate.EnterAsync(CancellationToken.None);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, gate.Waiting);
        held.Dispose();
        (await next).Dispose();
        (await gate.EnterAsync(CancellationToken.None)).Dispose();
    }

    [Fact]
    public async Task ReleasingTwiceReleasesOnce()
    {
        var gate = new FifoGate();
        var held = await gate.EnterAsync(CancellationToken.None);
        var second = gate.EnterAsync(CancellationToken.None);
        held.Dispose();
        var inside = await second;
        held.Dispose();
        var third = gate.EnterAsync(CancellationToken.None);
        Assert.False(third.IsCompleted);
        inside.Dispose();
        (await third).Dispose();
    }
}
