// Northern Districts Monitor — marks the page as scripted and shows publication times in the
// reader's time zone. It loads nothing: every resource of the site is in the HTML or the CSS.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var times = document.querySelectorAll("time[datetime]");
  for (var i = 0; i < times.length; i++) {
    var when = new Date(times[i].getAttribute("datetime"));
    if (!isNaN(when.getTime())) {
      times[i].title = when.toString();
    }
  }
})();
