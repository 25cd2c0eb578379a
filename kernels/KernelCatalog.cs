using System.Reflection;
using ILGPU;

namespace DistillSpec.Kernels;

/// <summary>One kernel entry point as a backend compiles it: generic ones once per weight format.</summary>
/// <param name="Name">"Class.Method" or "Class.Method&lt;Weights&gt;".</param>
/// <param name="ImplicitlyGrouped">Launched auto-grouped over an Index1D rather than with a KernelConfig.</param>
public sealed record KernelEntry(string Name, MethodInfo Method, bool ImplicitlyGrouped);

/// <summary>
/// Every kernel this assembly launches: each public static void method of a class whose name ends
/// in Kernel or Kernels, with generic weight-reading kernels instantiated for every weight format
/// the ILGPU backend stores. Found by reflection, so a new kernel is compiled ahead of time (the
/// offline PTX tests, the ptxas report) without being listed anywhere.
/// </summary>
public static class KernelCatalog
{
    public static IReadOnlyList<KernelEntry> All { get; } = Find();

    private static KernelEntry[] Find()
    {
        var entries = new List<KernelEntry>();
        var types = typeof(KernelCatalog).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(KernelCatalog).Namespace && t.IsAbstract && t.IsSealed && (t.Name.EndsWith("Kernel") || t.Name.EndsWith("Kernels")))
            .OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (var type in types)
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                if (method.ReturnType != typeof(void)) continue;
                bool implicitly = method.GetParameters() is [var first, ..] && first.ParameterType == typeof(Index1D);
                if (!method.IsGenericMethodDefinition)
                {
                    entries.Add(new KernelEntry($"{type.Name}.{method.Name}", method, implicitly));
                    continue;
                }
                foreach (var (_, weights) in DeviceWeightFormats.WeightTypes)
                    entries.Add(new KernelEntry($"{type.Name}.{method.Name}<{weights.Name}>", method.MakeGenericMethod(weights), implicitly));
            }
        return [.. entries];
    }
}
