namespace MedZoo.Engine.Networks.Blocks;

/// <summary>How CPU 3D convolutions are computed in this process (see <see cref="CpuConvolution"/>).</summary>
public enum CpuConvolutionRoute
{
    /// <summary>oneDNN on channels-last (NDHWC) data: fast and exact (the default where the self-test passes).</summary>
    ChannelsLast,

    /// <summary>libtorch's default call on NCDHW data (oneDNN's blocked kernels).</summary>
    Batched,

    /// <summary>oneDNN switched off: libtorch's own convolution kernels (exact, slower).</summary>
    Native,

    /// <summary>Last resort: one sample at a time on NCDHW data.</summary>
    PerSample,
}
