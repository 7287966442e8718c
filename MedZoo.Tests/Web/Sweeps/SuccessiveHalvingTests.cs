using MedZoo.Web.Sweeps;

namespace MedZoo.Tests.Web.Sweeps;

public sealed class SuccessiveHalvingTests
{
    [Theory]
    [InlineData(1, 3, 30, new[] { 1, 3, 9, 27 })]
    [InlineData(2, 2, 16, new[] { 2, 4, 8 })]
    [InlineData(5, 3, 5, new int[0])]
    public void Rungs_AreMinTimesEtaPowersBelowTheLastEpoch(int min, int eta, int epochs, int[] expected) =>
        Assert.Equal(expected, SuccessiveHalving.Rungs(min, eta, epochs));

    [Fact]
    public void Decide_FewerThanEtaTrialsAtTheRung_EveryoneGoesOn()
    {
        Assert.False(SuccessiveHalving.Decide(0.1, [0.9, 0.1], eta: 3, epoch: 1).Stop);
    }

    [Fact]
    public void Decide_EtaTrials_OnlyTheBestGoesOn()
    {
        Assert.False(SuccessiveHalving.Decide(0.9, [0.5, 0.9, 0.7], eta: 3, epoch: 1).Stop);
        var d = SuccessiveHalving.Decide(0.7, [0.5, 0.9, 0.7], eta: 3, epoch: 1);
        Assert.True(d.Stop);
        Assert.Equal("stopped by successive halving at epoch 1: best Dice 0.700 is not among the best 1 of the 3 trials that reached this epoch (needs 0.900)", d.Reason);
    }

    [Fact]
    public void Decide_SixTrials_TheTopTwoGoOn()
    {
        double[] atRung = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        Assert.Equal([false, false, true, true, true, true],
            atRung.OrderByDescending(v => v).Select(v => SuccessiveHalving.Decide(v, atRung, eta: 3, epoch: 3).Stop));
    }

    [Fact]
    public void Decide_TieWithTheThreshold_GoesOn()
    {
        Assert.False(SuccessiveHalving.Decide(0.8, [0.8, 0.8, 0.2], eta: 3, epoch: 2).Stop);
    }
}
