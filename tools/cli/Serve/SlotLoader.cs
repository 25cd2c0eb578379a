using DistillSpec.Speculative;

namespace DistillSpec.Cli.Serve;

/// <summary>Loads the served model (with its draft, when given) once per slot; on the CPU the threads are split between slots.</summary>
internal static class SlotLoader
{
    public static List<ModelSlot> Load(string target, string? draft, int parallel, SpeculativeOptions speculation, ModelOptions model, string draftDevice)
    {
        var perSlot = model with { Threads = Math.Max(1, model.Threads / parallel) };
        var slots = new List<ModelSlot>(parallel);
        try
        {
            for (int i = 0; i < parallel; i++)
                slots.Add(draft is null
                    ? new ModelSlot(LocalModel.Load(target, perSlot))
                    : new ModelSlot(SpeculativePair.Load(target, draft, new SpeculativePairOptions
                    {
                        Target = perSlot,
                        Draft = perSlot with { Device = draftDevice },
                    }), speculation));
            return slots;
        }
        catch
        {
            foreach (var slot in slots) slot.Dispose();
            throw;
        }
    }
}
