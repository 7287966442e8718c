using System.Globalization;

namespace MedZoo.Tests.Benchmarks;

/// <summary>
/// benchmarks/onednn_profile.py splits oneDNN's execution log into convolutions, weight reorders and activation
/// reorders per unit of work. Checked on written logs in both of oneDNN's formats, with known times.
/// </summary>
public sealed class OnednnProfileScriptTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medzoo-onednn-profile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string Convolution = "mb1_ic16oc16_id32od32kd3sd1dd0pd1_ih32oh32kh3sh1dh0ph1_iw32ow32kw3sw1dw0pw1";

    // oneDNN 3 (libtorch 2.10): the convolution three times (one slow first call), its weight reordered twice,
    // an activation reordered once, and lines that are not execution records.
    private static readonly string[] OneDnn3 =
    [
        "onednn_verbose,v1,info,oneDNN v3.7.1",
        "onednn_verbose,v1,primitive,info,template:operation,engine,primitive,implementation,prop_kind,memory_descriptors,attributes,auxiliary,problem_desc,exec_time",
        $"onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx512_core,forward_training,src:f32::blocked:abcde::f0 wei:f32::blocked:ABcde16b16a::f0,attr-scratchpad:user,alg:convolution_direct,{Convolution},9.0",
        $"onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx512_core,forward_training,src:f32::blocked:abcde::f0 wei:f32::blocked:ABcde16b16a::f0,attr-scratchpad:user,alg:convolution_direct,{Convolution},1.0",
        $"onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx512_core,forward_training,src:f32::blocked:abcde::f0 wei:f32::blocked:ABcde16b16a::f0,attr-scratchpad:user,alg:convolution_direct,{Convolution},1.0",
        "onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32::blocked:abcde::f0 dst:f32::blocked:ABcde16b16a::f0,attr-scratchpad:user,,16x16x3x3x3,0.5",
        "onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32::blocked:abcde::f0 dst:f32::blocked:ABcde16b16a::f0,attr-scratchpad:user,,16x16x3x3x3,0.5",
        "onednn_verbose,v1,primitive,exec,cpu,reorder,jit:blk,undef,src:f32::blocked:abcde::f0 dst:f32::blocked:aBcde16b::f0,attr-scratchpad:user,,1x16x32x32x32,0.25",
        "some other output line",
    ];

    [SkippableFact]
    public void Log_OneDnn3_SplitsConvolutionsAndReordersPerUnitByMedianCall()
    {
        Skip.IfNot(File.Exists(BenchmarkScript.Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var log = Path.Combine(_folder, "onednn3.log");
        File.WriteAllLines(log, OneDnn3);

        var (code, output) = BenchmarkScript.Run("onednn_profile.py", "--log", log, "--units", "2", "--unit", "step");

        Assert.True(code == 0, output);
        // Median call 1.0 ms × 3 calls over 2 steps (the 9 ms first call does not count for every step).
        Assert.Matches(@"convolutions\s+1\.50 ms", output);
        Assert.Matches(@"weight reorders\s+0\.50 ms", output);
        Assert.Matches(@"activation reorders\s+0\.12 ms", output);
        Assert.Matches(@"all of oneDNN\s+2\.12 ms", output);
        // 16·16·27·32³ = 226.5 M multiply-adds per 1 ms call: 226 G per second.
        var line = output.Split('\n').Single(l => l.Contains("convolution jit:avx512_core"));
        Assert.Matches(@"^\s+1\.50\s+1\.50\s+226\s+convolutions", line);
        Assert.Contains("reorder 16x16x3x3x3", output);
        Assert.DoesNotContain("Traceback", output);
    }

    [SkippableFact]
    public void Log_OneDnn2_PyTorchs_IsReadTheSameWay()
    {
        Skip.IfNot(File.Exists(BenchmarkScript.Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var log = Path.Combine(_folder, "onednn2.log");
        File.WriteAllLines(log,
        [
            "onednn_verbose,info,prim_template:operation,engine,primitive,implementation,prop_kind,memory_descriptors,attributes,auxiliary,problem_desc,exec_time",
            "onednn_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:abcde:f0 dst_f32::blocked:Acdeb16a:f0,attr-scratchpad:user ,,16x16x3x3x3,2",
            $"onednn_verbose,exec,cpu,convolution,jit:avx512_core,forward_training,src_f32::blocked:abcde:f0 wei_f32::blocked:Acdeb16a:f0,attr-scratchpad:user ,alg:convolution_direct,{Convolution},4",
            $"dnnl_verbose,exec,cpu,convolution,jit:avx512_core,forward_training,src_f32::blocked:abcde:f0 wei_f32::blocked:Acdeb16a:f0,attr-scratchpad:user ,alg:convolution_direct,{Convolution},4",
        ]);

        var (code, output) = BenchmarkScript.Run("onednn_profile.py", "--log", log, "--units", "1");

        Assert.True(code == 0, output);
        Assert.Matches(@"convolutions\s+8\.00 ms", output);
        Assert.Matches(@"weight reorders\s+2\.00 ms", output);
        Assert.Contains("per window", output);
    }

    [SkippableTheory]
    [InlineData(false, "--log needs --units")]
    [InlineData(true, "no oneDNN execution records in the log")]
    public void Log_WithoutUnitsOrRecords_SaysWhatIsMissingWithoutATraceback(bool units, string expected)
    {
        Skip.IfNot(File.Exists(BenchmarkScript.Python), "/usr/bin/python3 is a prerequisite (scripts/prereqs.sh)");
        var log = Path.Combine(_folder, "empty.log");
        File.WriteAllText(log, "no oneDNN here\n");

        var (code, output) = units
            ? BenchmarkScript.Run("onednn_profile.py", "--log", log, "--units", 3.ToString(CultureInfo.InvariantCulture))
            : BenchmarkScript.Run("onednn_profile.py", "--log", log);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("Traceback", output);
    }
}
