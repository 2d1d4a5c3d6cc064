using Modulith.SharedKernel;

namespace Modulith.UnitTests.SharedKernel;

public sealed class SharedStringsTests
{
    [Fact]
    public void Equal_short_values_come_back_as_one_instance()
    {
        var first = new string("Product Viewed".AsSpan());
        var second = new string("Product Viewed".AsSpan());
        Assert.NotSame(first, second);

        Assert.Same(SharedStrings.Of(first), SharedStrings.Of(second));
        Assert.Equal("Product Viewed", SharedStrings.Of(second));
    }

    [Fact]
    public void Long_values_and_null_are_kept_as_given()
    {
        var long1 = new string('x', 101);
        var long2 = new string('x', 101);

        Assert.Same(long1, SharedStrings.Of(long1));
        Assert.Same(long2, SharedStrings.Of(long2));
        Assert.Null(SharedStrings.Of(null));
    }
}
