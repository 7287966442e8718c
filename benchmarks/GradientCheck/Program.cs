using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Blocks;
using TorchSharp;
using static TorchSharp.torch;

// Usage: dotnet run -c Release --project benchmarks/GradientCheck -- MODEL SIZE BATCH
// (MEDZOO_CPU_CONV=channels_last|batched|native|per_sample chooses how convolutions run, unset =
// MedZoo's self-tested choice; DNNL_MAX_CPU_ISA=SSE41|AVX2|ALL caps oneDNN's instruction set;
// GRADIENT_CHECK_ALL=1 lists every parameter's error on stderr.)
// Prints the worst relative error, over all parameters, of float32 gradients against the same
// network and input in float64, whose convolutions do not go through oneDNN. benchmarks/pytorch_gradient_check.py
// does the same in PyTorch: its float32 error is the yardstick (UNET3D 64³: 4.9e-2 in PyTorch 1.13).
if (args.Length != 3 || !int.TryParse(args[1], out var size) || !int.TryParse(args[2], out var batch) || size < 8 || batch < 1)
{
    Console.Error.WriteLine("usage: GradientCheck MODEL SIZE BATCH   (e.g. VNET 32 2)");
    return 2;
}
var name = args[0];
OneDnnIsa.Apply();
TorchRuntime.EnsureLoaded();
torch.set_num_threads(Math.Max(1, Environment.ProcessorCount));
Console.Write($"{OneDnnIsa.Explanation}; {CpuConvolution.Explanation}; {name} {size}^3 batch {batch}: ");
manual_seed(1);
using var model = ModelZoo.Create(name, 2, 4);
model.eval(); // no dropout: the float32 and float64 passes compute the same function
var generator = new Generator(7);
var x = randn([batch, 2, size, size, size], generator: generator);
var y = randint(0, 4, [batch, size, size, size], generator: generator);
var watch = System.Diagnostics.Stopwatch.StartNew();
var loss32 = nn.functional.cross_entropy(model.call(x), y);
loss32.backward();
var seconds = watch.Elapsed.TotalSeconds;
// Parameters the loss does not reach (an auxiliary branch that eval mode skips) have no gradient.
var grads32 = model.named_parameters().Where(p => p.parameter.grad is not null)
    .Select(p => (p.name, grad: p.parameter.grad!.detach().clone())).ToList();
model.zero_grad();
model.to(float64);
var loss64 = nn.functional.cross_entropy(model.call(x.to(float64)), y);
loss64.backward();
var grads64 = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
var worst = 0.0;
var worstName = "";
foreach (var (n, g32) in grads32)
{
    var reference = grads64[n];
    var error = (g32.to(float64) - reference).abs().max().item<double>() / Math.Max(reference.abs().max().item<double>(), 1e-12);
    if (double.IsNaN(error)) error = double.PositiveInfinity;
    if (error > worst) (worst, worstName) = (error, n);
    if (Environment.GetEnvironmentVariable("GRADIENT_CHECK_ALL") == "1") Console.Error.WriteLine($"  {n} {error:E2}");
}
Console.WriteLine($"loss {loss32.item<float>():F5} vs {loss64.item<double>():F5}; worst relative gradient error {worst:E2} ({worstName}); float32 forward+backward {seconds:F2} s");
foreach (var fallback in CpuConvolution.Fallbacks) Console.WriteLine($"  {fallback}");
// float32 against float64 through a deep network: 1e-3 to 5e-2 is rounding (PyTorch's own figure for
// the same check); wrong kernels give NaN (∞ here) or errors of 0.1 to 1.
return worst <= 0.08 ? 0 : 1;
