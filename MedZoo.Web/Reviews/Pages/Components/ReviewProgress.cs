
namespace MedZoo.Web.Reviews.Pages.Components;

/// <summary>How far a review's sliding-window inference is, in words (the list and the review page say it the same way).</summary>
public static class ReviewProgress
{
    /// <summary>"12 of 64 windows", or "waiting to start…" before the worker has counted the windows ("0 of 0 windows" read as broken).</summary>
    public static string Text(ReviewRecord review) =>
        review.WindowsTotal == 0 ? "waiting to start…" : $"{review.WindowsDone} of {review.WindowsTotal} windows";
}
