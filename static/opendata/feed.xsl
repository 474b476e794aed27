<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an Atom feed as a readable page when someone opens it in a browser; feed readers
     ignore this stylesheet and read the XML as usual. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes"/>
  <xsl:template match="/atom:feed">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/></title>
        <link rel="stylesheet" href="/static/opendata/feed.css"/>
      </head>
      <body>
        <main>
          <p class="feed-note">This is a feed: copy this page's address into a feed reader to follow it. Below are its latest entries.</p>
          <h1><xsl:value-of select="atom:title"/></h1>
          <p><xsl:value-of select="atom:subtitle"/></p>
          <p><a href="{atom:link[@rel='alternate']/@href}">Open the same list on the site</a></p>
          <ol class="feed-entries">
            <xsl:for-each select="atom:entry">
              <li>
                <h2><a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a></h2>
                <p class="feed-date"><xsl:value-of select="substring(atom:updated, 1, 10)"/></p>
                <p><xsl:value-of select="atom:summary"/></p>
              </li>
            </xsl:for-each>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
