using Modulith.Workspaces;
using Modulith.Workspaces.Keys;

namespace Modulith.UnitTests.Workspaces;

public sealed class KeyMaterialTests
{
    [Fact]
    public void Keys_are_random_and_only_their_hash_is_stored()
    {
        var a = KeyMaterial.NewSecret(KeyMaterial.ApiKeyPrefix);
        var b = KeyMaterial.NewSecret(KeyMaterial.ApiKeyPrefix);
        Assert.NotEqual(a, b);
        Assert.StartsWith("mk_", a);
        Assert.Equal(64, KeyMaterial.Hash(a).Length);
        Assert.DoesNotContain(a, KeyMaterial.Hash(a), StringComparison.Ordinal);
        Assert.Equal(KeyMaterial.Hash(a), KeyMaterial.Hash(a));
    }

    [Theory]
    [InlineData("shop-1", true)]
    [InlineData("a_b", true)]
    [InlineData("Shop", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    public void Workspace_ids_are_restricted_to_safe_characters(string id, bool valid)
    {
        Assert.Equal(valid, WorkspaceService.IsValidId(id));
    }
}
