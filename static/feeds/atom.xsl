<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an Atom feed as a page when a browser opens it: what it is, how to use it, and its
     entries as links. Feed readers ignore this. No script, no inline style (the CSP). -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="utf-8" indent="yes"/>
  <xsl:template match="/atom:feed">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/> (feed)</title>
        <link rel="stylesheet" href="/static/css/site.css"/>
      </head>
      <body>
        <main id="main" class="container">
          <p class="callout">This is a <strong>feed</strong>: copy this page's address into a feed
            reader to hear about new entries. Nothing needs installing to read it here.</p>
          <h1><xsl:value-of select="atom:title"/></h1>
          <p><xsl:value-of select="atom:subtitle"/> ·
            <a href="{atom:link[@rel='alternate']/@href}">Open on the site</a></p>
          <xsl:choose>
            <xsl:when test="atom:entry">
              <ol class="issue-list">
                <xsl:for-each select="atom:entry">
                  <li>
                    <a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a>
                    <br/><small><xsl:value-of select="substring(atom:updated, 1, 16)"/></small>
                    <xsl:if test="atom:summary">
                      <p><xsl:value-of select="atom:summary"/></p>
                    </xsl:if>
                  </li>
                </xsl:for-each>
              </ol>
            </xsl:when>
            <xsl:otherwise><p>Nothing here yet.</p></xsl:otherwise>
          </xsl:choose>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
