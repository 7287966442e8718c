using System.Net;
using System.Net.Http.Headers;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Reliability;

/// <summary>What fuzzing found in POST /api/uploads, checked on the real server.</summary>
public sealed class UploadEndpointTests
{
    [Fact]
    public async Task Post_MultipartCutShort_Answers400WithTheReason()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        app.Services.GetRequiredService<UserService>().Create("uploader", "uploader-password", Roles.Operator);
        var (client, _) = await SignIn.AsAsync(address, "uploader", "uploader-password");
        // A form whose body ends inside its first part (no closing boundary): a client cut off mid-upload.
        var body = "--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"t1.nii\"\r\n\r\nabc"u8.ToArray();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        using var response = await client.PostAsync("/api/uploads", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("the form cannot be read", await response.Content.ReadAsStringAsync());
    }
}
