using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Training;

/// <summary>
/// The elements of float32 CPU tensors as spans over libtorch's own memory, for the host code paths that
/// skip libtorch dispatch on small networks (issue 16: the acting and training forward of small MLPs, the
/// optimiser's update). A span is valid until its tensor is freed or resized; nothing is copied.
/// </summary>
public static class HostTensors
{
    /// <summary>True when <paramref name="t"/> is float32, on the CPU and contiguous, so its elements are one host array.</summary>
    public static bool IsHostFloat(Tensor t) => t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.is_contiguous();

    /// <summary>The first <paramref name="count"/> elements of a tensor that <see cref="IsHostFloat"/> accepts, read in place.</summary>
    public static unsafe ReadOnlySpan<float> Read(Tensor t, long count) => new(Pointer(t), checked((int)count));

    /// <summary>The first <paramref name="count"/> elements of a tensor that <see cref="IsHostFloat"/> accepts, writable in place.</summary>
    public static unsafe Span<float> Write(Tensor t, long count) => new(Pointer(t), checked((int)count));

    private static unsafe float* Pointer(Tensor t) => (float*)StorageData(t.Handle) + StorageOffset(t.Handle);

    // TorchSharp's own native exports (libLibTorchSharp, loaded with TorchSharp): the storage's base pointer and a
    // tensor's offset into it in elements. TorchSharp 0.107 exposes no public data pointer on Tensor.
    [DllImport("LibTorchSharp", EntryPoint = "THSStorage_data_ptr")]
    private static extern IntPtr StorageData(IntPtr tensor);

    [DllImport("LibTorchSharp", EntryPoint = "THSTensor_storage_offset")]
    private static extern long StorageOffset(IntPtr tensor);
}
